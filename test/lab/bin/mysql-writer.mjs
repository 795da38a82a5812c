// mysql-writer.mjs HOST BASE_ID [INTERVAL_MS]: the application of the MariaDB lab scenarios. It
// inserts one row with the next id (BASE_ID, BASE_ID+1, ...) every INTERVAL_MS (20) through HOST
// (the write VIP), autocommit, with a 1 s query timeout and a 200 ms connect timeout, and
// reconnects after any error. The short connect timeout is a pooled application's retry loop: a
// SYN sent while the VIP is between nodes is black-holed, and TCP would only resend it after its
// 1 s initial retransmission timeout, so a longer timeout measures that timer, not the cluster.
// Both stacks of bench:lab-mysql run this same writer.
// Every id is used once, whatever happened to it: an insert that timed out may or may not have
// committed, and only acknowledged ones count as promised to the client.
// Password from $WRITER_PASSWORD (never on the command line), user from $WRITER_USER.
// One JSON line per event on stdout, times in epoch ms:
//   {"ev":"ins","id":N,"t":sent,"rt":answered,"ok":true}      acknowledged commit
//   {"ev":"ins","id":N,"t":sent,"rt":answered,"ok":false,"err":"..."}
//   {"ev":"conn","t":...,"rt":...,"node":"n2","ro":0}          connected (node = @@hostname)
//   {"ev":"connfail","t":...,"rt":...,"err":"..."}
import { writeSync } from 'node:fs';

const [host, baseText, intervalText] = process.argv.slice(2);
const base = Number(baseText);
const interval = Number(intervalText ?? 20);
const user = process.env.WRITER_USER ?? 'app';
const password = process.env.WRITER_PASSWORD ?? '';
if (!host || !Number.isInteger(base)) {
  console.error('usage: mysql-writer.mjs HOST BASE_ID [INTERVAL_MS]');
  process.exit(2);
}
const mysql = await import('mysql2/promise');

const out = (o) => { writeSync(1, JSON.stringify(o) + '\n'); };
const errText = (e) => String(e?.code ?? e?.errno ?? 'error') + (e?.message ? `: ${String(e.message).slice(0, 160)}` : '');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

let conn;
let next = base;
let due = Date.now();

async function connect() {
  const t = Date.now();
  let c;
  try {
    c = await mysql.createConnection({ host, port: 3306, user, password, connectTimeout: 200, database: 'vigiltest' });
    // A failed connection attempt must not leave an unhandled 'error' event behind.
    c.on('error', () => {});
    const [rows] = await c.query({ sql: 'SELECT @@hostname AS node, @@read_only AS ro', timeout: 1000 });
    out({ ev: 'conn', t, rt: Date.now(), node: rows[0].node, ro: Number(rows[0].ro) });
    return c;
  } catch (e) {
    c?.destroy();
    out({ ev: 'connfail', t, rt: Date.now(), err: errText(e) });
    return undefined;
  }
}

for (;;) {
  const wait = due - Date.now();
  if (wait > 0) await sleep(wait);
  due = Math.max(due + interval, Date.now());
  if (!conn) {
    conn = await connect();
    if (!conn) continue;
  }
  const id = next++;
  const t = Date.now();
  try {
    await conn.query({ sql: 'INSERT INTO t (id, v) VALUES (?, @@hostname)', values: [id], timeout: 1000 });
    out({ ev: 'ins', id, t, rt: Date.now(), ok: true });
  } catch (e) {
    out({ ev: 'ins', id, t, rt: Date.now(), ok: false, err: errText(e) });
    conn.destroy();
    conn = undefined;
  }
}
