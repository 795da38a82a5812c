// tcp-echo.mjs PORT: echoes every line back, on every address (the lab's stand-in for a service
// behind the VIP). Plain JavaScript so a node runs it without the TypeScript loader.
import { createServer } from 'node:net';

const port = Number(process.argv[2] ?? 7777);
createServer((sock) => {
  sock.on('error', () => {});
  sock.pipe(sock);
}).listen(port, '0.0.0.0', () => console.log(JSON.stringify({ t: Date.now(), ev: 'listening', port })));
