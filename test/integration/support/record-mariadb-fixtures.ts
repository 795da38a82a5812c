// Records real MariaDB answers (SHOW SLAVE STATUS and the agent's state query in the states the
// agent grades) into lib/mysql/fixtures/, for the unit tests of the pure parsers and grading.
//   node --import tsx test/integration/support/record-mariadb-fixtures.ts
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { mariadbSql } from '../../../lib/mysql/sql/mariadb.ts';
import { MariaCluster, ROOT, type Node } from './mariadb.ts';
import { signal } from '../../../lib/daemon.ts';

const c = await MariaCluster.create({ nodes: 2, basePort: 33081 });
const [p, r] = c.nodes as [Node, Node];
const out: Record<string, unknown> = {};
const status = async (n: Node) => (await c.root(n, 'SHOW SLAVE STATUS'));
try {
  for (const n of c.nodes) if ((await c.agent(n, 'start')).code !== 0) throw new Error('start');
  out.version = (await c.root(p, 'SELECT @@version AS version, @@version_comment AS comment'))[0];
  out.unconfigured = await status(r);
  if ((await c.agent(p, 'promote')).code !== 0) throw new Error('promote');
  await c.agent(r, 'notify', c.notifyEnv('post', 'promote', [p]));
  await c.app(p, 'INSERT INTO vigiltest.t VALUES (1, "x")');
  await c.waitFor(async () => (await c.root(r, 'SELECT COUNT(*) AS n FROM vigiltest.t'))[0]!.n === 1, 10_000, 'replication');
  out.statePrimary = (await c.root(p, mariadbSql.state))[0];
  out.stateReplica = (await c.root(r, mariadbSql.state))[0];
  out.replicaOk = await status(r);
  await c.root(r, 'STOP SLAVE SQL_THREAD');
  await c.app(p, 'INSERT INTO vigiltest.t VALUES (2, "y")');
  await new Promise((res) => setTimeout(res, 500));
  out.sqlStoppedPending = await status(r);
  await c.root(r, 'START SLAVE SQL_THREAD');
  await new Promise((res) => setTimeout(res, 300));
  const mysql = await import('mysql2/promise');
  const conn = await mysql.createConnection({ socketPath: r.socket, user: 'root', password: '' });
  await conn.query('SET SESSION sql_log_bin = 0');
  await conn.query('INSERT INTO vigiltest.t VALUES (3, "conflict")');
  conn.destroy();
  await c.app(p, 'INSERT INTO vigiltest.t VALUES (3, "z")');
  await c.waitFor(async () => Number((await status(r))[0]!.Last_SQL_Errno) !== 0, 10_000, 'SQL error');
  out.sqlError = await status(r);
  await c.root(r, 'STOP SLAVE');
  await c.root(r, 'RESET SLAVE ALL');
  // Source down: the IO thread keeps trying.
  await c.root(r, `CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT=${p.port}, MASTER_USER='repl', MASTER_PASSWORD='x', MASTER_USE_GTID=current_pos, MASTER_CONNECT_RETRY=1`);
  signal(c.pid(p)!, 'SIGKILL');
  await c.root(r, 'START SLAVE');
  await new Promise((res) => setTimeout(res, 1500));
  out.ioConnecting = await status(r);
  writeFileSync(join(ROOT, 'lib/mysql/fixtures/mariadb-10.11.json'), `${JSON.stringify({
    source: 'recorded from MariaDB by test/integration/support/record-mariadb-fixtures.ts', ...out,
  }, null, 1)}\n`);
  console.log('recorded', Object.keys(out).join(', '));
} finally {
  await c.cleanup();
}
