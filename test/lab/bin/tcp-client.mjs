// tcp-client.mjs HOST PORT: a client of the VIP that never gives up. It sends a numbered line
// every 50 ms and waits for the echo with no timeout of its own (like most database clients); on
// any socket error it reconnects (connect timeout 500 ms). One JSON line per event on stdout:
//   connected | echo (first echo of each connection, then every 20th) | error | close
import { connect } from 'node:net';

const [host, portText] = process.argv.slice(2);
const port = Number(portText);
let conn = 0;
const out = (ev, extra = {}) => console.log(JSON.stringify({ t: Date.now(), ev, conn, ...extra }));

function open() {
  conn += 1;
  const id = conn;
  let seq = 0;
  let echoed = 0;
  let buf = '';
  let timer;
  const sock = connect({ host, port });
  const connectTimer = setTimeout(() => sock.destroy(new Error('connect timeout')), 500);
  const done = (ev, extra) => {
    if (id !== conn) return;
    clearTimeout(connectTimer);
    clearInterval(timer);
    out(ev, extra);
    sock.destroy();
    setTimeout(open, 50);
  };
  sock.on('connect', () => {
    clearTimeout(connectTimer);
    out('connected', { local: `${sock.localAddress}:${sock.localPort}` });
    timer = setInterval(() => { sock.write(`${++seq}\n`); }, 50);
  });
  sock.on('data', (d) => {
    buf += d.toString();
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      const n = Number(buf.slice(0, i));
      buf = buf.slice(i + 1);
      echoed += 1;
      if (echoed === 1 || echoed % 20 === 0) out('echo', { seq: n });
    }
  });
  sock.on('error', (e) => done('error', { code: e.code ?? e.message }));
  sock.on('close', () => done('close'));
}
open();
