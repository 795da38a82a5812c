// Fence agents exit 0, 1 or (status only) 2; the kind of a failure only chooses the message.
// Code below the runtime throws a FenceError; only lib/fence/agent.ts turns it into an exit.

export type FenceErrorKind =
  /** Bad command line or stdin: unknown option, missing value, bad type. */
  | 'usage'
  /** Options that cannot work together or a missing required one. */
  | 'config'
  /** The device did not answer at all. */
  | 'no-answer'
  /** The device answered and refused the credentials. */
  | 'login-refused'
  /** The device answered with something that is not a valid answer. */
  | 'garbage'
  /** The device accepted the session but did not finish the command in time. */
  | 'slow'
  /** The power state did not become the requested one within power_timeout. */
  | 'power-timeout'
  /** Anything else the device reported. */
  | 'device';

export class FenceError extends Error {
  constructor(readonly kind: FenceErrorKind, message: string) {
    super(message);
    this.name = 'FenceError';
  }
}

export const fenceFail = (kind: FenceErrorKind, message: string): never => { throw new FenceError(kind, message); };
