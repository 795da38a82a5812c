// The small part of ssh2 1.x that lib/ssh/client.ts uses, imported by file so that the bundle
// leaves out the server, the HTTP agents and the key generator.
declare module 'ssh2/lib/client.js' {
  import type { EventEmitter } from 'node:events';
  import type { Socket } from 'node:net';
  import type { Readable, Writable } from 'node:stream';

  export interface Ssh2Channel extends Readable, Writable {
    stderr: Readable;
    end(): this;
    close(): void;
    on(event: 'exit', l: (code: number | null, signal?: string) => void): this;
    on(event: 'close', l: () => void): this;
    on(event: 'data', l: (d: Buffer) => void): this;
    on(event: string, l: (...a: any[]) => void): this;
  }
  export interface Ssh2AuthAttempt {
    type: 'password' | 'publickey' | 'agent' | 'keyboard-interactive' | 'none';
    username: string;
    password?: string;
    key?: unknown;
    agent?: string;
    prompt?: (name: string, instructions: string, lang: string,
      prompts: Array<{ prompt: string; echo: boolean }>, finish: (answers: string[]) => void) => void;
  }
  export interface Ssh2ConnectConfig {
    sock: Socket;
    username: string;
    hostVerifier: (key: Buffer, verify: (ok: boolean) => void) => void;
    authHandler: (methodsLeft: string[] | null, partialSuccess: boolean | null,
      next: (a: Ssh2AuthAttempt | false) => void) => Ssh2AuthAttempt | false | undefined;
    readyTimeout?: number;
    keepaliveInterval?: number;
    keepaliveCountMax?: number;
    algorithms?: { serverHostKey?: string[]; cipher?: string[] };
    debug?: (msg: string) => void;
  }
  export default class Client extends EventEmitter {
    connect(cfg: Ssh2ConnectConfig): this;
    exec(command: string, cb: (err: Error | undefined, stream: Ssh2Channel) => void): boolean;
    end(): this;
    destroy(): this;
  }
}

declare module 'ssh2/lib/protocol/keyParser.js' {
  export interface ParsedKey {
    type: string;
    comment: string;
    isPrivateKey(): boolean;
    getPublicSSH(): Buffer;
  }
  export function parseKey(data: Buffer | string, passphrase?: string): ParsedKey | ParsedKey[] | Error;
  const keyParser: { parseKey: typeof parseKey };
  export default keyParser;
}
