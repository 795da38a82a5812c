// mysql-sampler.mjs [NAME=HOST ...] [--every MS]: asks every server, every 100 ms, whether it
// accepts writes: `SELECT @@read_only` with no table in the query (on a read-only MariaDB server,
// `SELECT @@read_only, COUNT(*) FROM t` returns 0 for it). Each target keeps one connection
// (connect and query timeouts 300 ms; after an error it reconnects on a later tick); a target
// whose previous question is still pending is reported as such. One JSON line per tick:
//   {"t":epoch_ms,"s":{"n1":"rw","n2":"ro","n3":"down","ro-vip":"ro:n3"}}
// States: rw, ro (for a VIP: ro:<answering host>/rw:<host>), down (connect refused/failed),
// hung (no answer within the timeout, or still waiting from an earlier tick).
// User and password from $SAMPLER_USER and $SAMPLER_PASSWORD.
import { writeSync } from 'node:fs';

const args = process.argv.slice(2);
let every = 100;
const targets = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--every') { every = Number(args[++i]); continue; }
  const [name, host] = args[i].split('=');
  targets.push({ name, host, conn: undefined, busy: false });
}
if (!targets.length) { console.error('usage: mysql-sampler.mjs NAME=HOST ... [--every MS]'); process.exit(2); }
const user = process.env.SAMPLER_USER ?? 'app';
const password = process.env.SAMPLER_PASSWORD ?? '';
const mysql = await import('mysql2/promise');
const TIMEOUT = 300;

const classify = (e) => (/timeout|ETIMEDOUT|PROTOCOL_SEQUENCE_TIMEOUT/i.test(`${e?.code} ${e?.message}`) ? 'hung' : 'down');

async function ask(tg) {
  if (tg.busy) return 'hung';
  tg.busy = true;
  try {
    if (!tg.conn) {
      const c = await mysql.createConnection({ host: tg.host, port: 3306, user, password, connectTimeout: TIMEOUT });
      c.on('error', () => {});
      tg.conn = c;
    }
    const [rows] = await tg.conn.query({ sql: 'SELECT @@read_only AS ro, @@hostname AS h', timeout: TIMEOUT });
    const state = Number(rows[0].ro) ? 'ro' : 'rw';
    return tg.name.endsWith('vip') ? `${state}:${rows[0].h}` : state;
  } catch (e) {
    tg.conn?.destroy();
    tg.conn = undefined;
    return classify(e);
  } finally {
    tg.busy = false;
  }
}

let due = Date.now();
for (;;) {
  const t = Date.now();
  // An answer that takes longer than this is not awaited (the target's next tick says "hung" too).
  const answers = await Promise.all(targets.map((tg) => Promise.race([
    ask(tg), new Promise((r) => setTimeout(() => r('hung'), TIMEOUT + 50)),
  ])));
  const s = {};
  targets.forEach((tg, i) => { s[tg.name] = answers[i]; });
  writeSync(1, JSON.stringify({ t, s }) + '\n');
  due = Math.max(due + every, Date.now());
  await new Promise((r) => setTimeout(r, Math.max(0, due - Date.now())));
}
