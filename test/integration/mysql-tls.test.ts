// ocf:vigil:mysql with TLS everywhere TCP is used, against two real MariaDB servers on
// 127.0.0.1:33101-33102 that run with require_secure_transport=ON, a throwaway CA's certificates
// (support/tls.ts) and a replication account that REQUIRE SSL: the agent's own sessions with the
// other server (the writable-peer guard, the switchover wait, the rejoin check) must use TLS and
// verify the server's certificate, chain and name, or the promotion, switchover and rejoin fail.
// Then the same against two MySQL 9.7 servers on 34101-34102 (support/mariadb.ts flavours()).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MariaCluster, REPL_PASSWORD, REPL_USER, flavours, type Node, type TransitionPlan } from './support/mariadb.ts';
import { makePki, serverCertificate, type Pki } from './support/tls.ts';

const RECURRING = { OCF_RESKEY_CRM_meta_interval: '7000' };

for (const flavour of flavours()) describe(`ocf:vigil:mysql over TLS (require_secure_transport=ON, REQUIRE SSL; ${flavour.label})`, { timeout: 600_000 }, () => {
  let c: MariaCluster;
  let n1: Node, n2: Node;
  let pki: Pki;
  const serverCert = (node: string) => ({ cert: join(pki.dir, `${node}-server.pem`), key: join(pki.dir, `${node}-server.key`) });

  before(async () => {
    pki = await makePki(mkdtempSync(join(tmpdir(), 'vigil-pki-')), ['IP:127.0.0.1']);
    await flavour.expose(pki.dir); // the servers read their certificates and keys from it
    for (const n of ['n1', 'n2']) {
      copyFileSync(pki.serverCert, serverCert(n).cert);
      copyFileSync(pki.serverKey, serverCert(n).key);
    }
    c = await MariaCluster.create({
      flavour, nodes: 2, basePort: 33101,
      serverOptions: (n) => ({ ssl_ca: pki.ca, ssl_cert: serverCert(n).cert, ssl_key: serverCert(n).key, require_secure_transport: 'ON' }),
      params: {
        replication_require_ssl: 'true', replication_ssl_ca: pki.ca,
        replication_ssl_cert: pki.clientCert, replication_ssl_key: pki.clientKey,
      },
    });
    [n1, n2] = c.nodes as [Node, Node];
  });
  after(async () => {
    await c?.cleanup(process.env.VIGIL_KEEP_TEST_DIRS === '1');
    if (pki) await flavour.unexpose(pki.dir);
    if (pki && process.env.VIGIL_KEEP_TEST_DIRS !== '1') rmSync(pki.dir, { recursive: true, force: true });
  });

  const readOnly = async (node: Node) => Number((await c.root(node, 'SELECT @@read_only AS ro'))[0]!.ro);
  const slave = (node: Node) => c.replica(node);
  /** A replica status column in the flavour's words (MariaDB Master_SSL_*, MySQL Source_SSL_*). */
  const col = (mariadbName: string) => (flavour.name === 'mariadb' ? mariadbName : mariadbName.replace('Master', 'Source'));
  const tlsAccepts = async (node: Node) => Number((await c.root(node, "SHOW GLOBAL STATUS LIKE 'Ssl_accepts'"))[0]!.Value);
  let nextId = 1;
  const write = async (node: Node) => { const id = nextId++; await c.app(node, 'INSERT INTO vigiltest.t VALUES (?, ?)', [id, 'tls']); return id; };
  const replicated = (node: Node, id: number) => c.waitFor(async () => (await c.ids(node)).includes(id), 15_000, `row ${id} on ${node.name}`);
  const login = async (o: Record<string, unknown>): Promise<string> => {
    const mysql = await import('mysql2/promise');
    try {
      const conn = await mysql.createConnection({ user: REPL_USER, password: REPL_PASSWORD, connectTimeout: 3000, ...o });
      conn.destroy();
      return 'ok';
    } catch (e) { return (e as Error).message; }
  };
  const promoteTransition = async (target: Node, plan: Omit<TransitionPlan, 'promote'>, extra: Record<string, string> = {}) => {
    const p: TransitionPlan = { ...plan, promote: [target] };
    await c.notifyAll('pre', 'promote', p, extra);
    const r = await c.agent(target, 'promote', extra);
    if (r.code === 0) {
      c.setPromoted(target);
      await c.notifyAll('post', 'promote', p, extra);
    }
    return r;
  };

  test('setup: a plain TCP login is refused, TLS is offered; the socket needs no TLS (require_secure_transport), a REQUIRE SSL account does', async () => {
    for (const n of c.nodes) {
      const r = await c.agentOk(n, 'start');
      assert.match(r.stderr, /read-only with replication stopped/);
    }
    for (const n of c.nodes) {
      // Not binlogged: the servers' histories stay identical (no errant transaction).
      await c.unlogged(n, [`ALTER USER '${REPL_USER}'@'%' REQUIRE SSL`]);
      const v = new Map((await c.root(n, "SHOW GLOBAL VARIABLES WHERE Variable_name IN ('have_ssl', 'require_secure_transport')")).map((r) => [r.Variable_name, r.Value]));
      if (flavour.name === 'mariadb') assert.equal(v.get('have_ssl'), 'YES');
      assert.equal(v.get('require_secure_transport'), 'ON');
      assert.match(await login({ host: '127.0.0.1', port: n.port }), /Access denied/, 'a TCP login without TLS');
      assert.equal(await login({ host: '127.0.0.1', port: n.port, ssl: { ca: readFileSync(pki.ca) } }), 'ok', 'the same login with TLS');
      assert.equal(await login({ socketPath: n.socket }), 'ok', 'the socket, without TLS, as the agent logs in to its own server');
    }
    // MariaDB 10.11 and MySQL 9.7: require_secure_transport accepts the socket, but an account that
    // REQUIRE SSL is refused there without TLS (docs/mysql.md: leave 'repl'@'localhost' without it).
    await c.unlogged(n2, [`CREATE USER 'tlsonly'@'localhost' IDENTIFIED BY 'x-Pw-1' REQUIRE SSL`]);
    assert.match(await login({ socketPath: n2.socket, user: 'tlsonly', password: 'x-Pw-1' }), /Access denied/);
    await c.unlogged(n2, [`DROP USER 'tlsonly'@'localhost'`]);
  });

  test('without TLS on the agent\'s sessions (what it did before): the guard cannot log in to n2 and the promotion is refused', async () => {
    const r = await promoteTransition(n1, { active: [n1, n2], promoted: [] }, { OCF_RESKEY_replication_require_ssl: 'false' });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.reason ?? '', /^refusing to become writable: n2 answered but its read-only state cannot be read \(Access denied for user 'repl'@'127\.0\.0\.1'/);
    assert.equal(await readOnly(n1), 1);
  });

  test('promotion: the writable-peer guard asks n2 over TLS; the replica joins (rejoin check over TLS) on a verified TLS link', async () => {
    const accepts = await tlsAccepts(n2);
    const r = await promoteTransition(n1, { active: [n1, n2], promoted: [] });
    assert.equal(r.code, 0, `${r.reason}\n${r.stderr}`);
    assert.doesNotMatch(r.stderr, /cannot be read/);
    assert.ok(await tlsAccepts(n2) > accepts, 'n2 accepted TLS sessions during the promotion');
    assert.equal(await readOnly(n1), 0);
    const id = await write(n1);
    await replicated(n2, id);
    const s = (await slave(n2))!;
    assert.equal(s.sourcePort, n1.port);
    assert.deepEqual(['Master_SSL_Allowed', 'Master_SSL_Verify_Server_Cert', 'Master_SSL_CA_File'].map((k) => s.raw[col(k)]), ['Yes', 'Yes', pki.ca]);
    assert.equal((await c.agent(n2, 'monitor', RECURRING)).code, 0);
    assert.equal(c.attr(n2, 'db-grade'), 'OK');
  });

  test('planned switchover n1 -> n2: demote waits for n2 over TLS, n2 is promoted, n1 rejoins it', async () => {
    await write(n1);
    const plan: TransitionPlan = { demote: [n1], promote: [n2], promoted: [n1] };
    await c.notifyAll('pre', 'demote', plan);
    const d = await c.agent(n1, 'demote');
    assert.equal(d.code, 0, `${d.reason}\n${d.stderr}`);
    assert.match(d.stderr, /switchover: n2 holds every transaction of this server/);
    await c.notifyAll('post', 'demote', plan);
    await c.notifyAll('pre', 'promote', plan);
    const p = await c.agent(n2, 'promote');
    assert.equal(p.code, 0, `${p.reason}\n${p.stderr}`);
    c.setPromoted(n2);
    const post = await c.notifyAll('post', 'promote', plan);
    assert.match(post[0]!.stderr, /replicating from n2/);
    const id = await write(n2);
    await replicated(n1, id);
  });

  test('restart of a replica: start checks the primary\'s history over TLS and follows it', async () => {
    await c.agentOk(n1, 'stop');
    const r = await c.agentOk(n1, 'start');
    assert.match(r.stderr, /replicating from n2/);
    const id = await write(n2);
    await replicated(n1, id);
  });

  test('a certificate from another CA: the rejoin check refuses it with the reason and configures nothing; the right CA heals', async () => {
    const wrongCa = { OCF_RESKEY_replication_ssl_ca: pki.otherCa };
    await c.agentOk(n1, 'stop');
    const r = await c.agentOk(n1, 'start', wrongCa);
    assert.match(r.stderr, /WARNING: cannot ask n2 \(127\.0\.0\.1:\d+\) what it holds: connecting to 127\.0\.0\.1:\d+: TLS refused: the server's certificate does not verify against the CA \(self-signed certificate in certificate chain\); not replicating from it/);
    assert.equal((await slave(n1))!.ioRunning, 'No', 'not started on an unverified primary');
    const id = await write(n2);
    const m = await c.agent(n1, 'monitor', RECURRING);
    assert.equal(m.code, 0, m.stderr);
    await replicated(n1, id);
  });

  test('a certificate from another CA: the writable-peer guard refuses the promotion, naming the TLS failure', async () => {
    await c.agentOk(n2, 'demote');
    c.setPromoted(undefined);
    const r = await promoteTransition(n1, { active: [n1, n2], promoted: [] }, { OCF_RESKEY_replication_ssl_ca: pki.otherCa });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.reason ?? '', /^refusing to become writable: n2 answered but its read-only state cannot be read \(connecting to 127\.0\.0\.1:\d+: TLS refused: the server's certificate does not verify against the CA \(self-signed certificate in certificate chain\)\); stop or fence n2 first$/);
    assert.equal(await readOnly(n1), 1, 'the refused node stays read-only');
  });

  test('a certificate of the right CA for another name: refused for the address dialled, accepted for the name it carries', async () => {
    // n2 now presents a certificate for "localhost" only, and is dialled at 127.0.0.1.
    const other = await serverCertificate(pki, 'localhost-only', ['DNS:localhost']);
    copyFileSync(other.cert, serverCert('n2').cert);
    copyFileSync(other.key, serverCert('n2').key);
    // A FLUSH is binlogged otherwise: an errant transaction. MySQL reloads with ALTER INSTANCE.
    await c.root(n2, flavour.name === 'mariadb' ? 'FLUSH NO_WRITE_TO_BINLOG SSL' : 'ALTER INSTANCE RELOAD TLS');
    const plan = { active: [n1, n2], promoted: [] as Node[] };
    const r = await promoteTransition(n1, plan);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.reason ?? '', /n2 answered but its read-only state cannot be read \(connecting to 127\.0\.0\.1:\d+: TLS refused: the server's certificate is not issued for the address dialled \(.*IP: 127\.0\.0\.1 is not in the cert's list/);
    assert.equal(await readOnly(n1), 1);
    // Dialled by the name on its certificate, the same server is verified.
    const byName = { OCF_RESKEY_node_map: `n1=127.0.0.1:${n1.port} n2=localhost:${n2.port}` };
    const ok = await promoteTransition(n1, plan, byName);
    assert.equal(ok.code, 0, `${ok.reason}\n${ok.stderr}`);
    assert.equal(await readOnly(n1), 0);
  });

  test('an account that REQUIRE X509: the agent\'s sessions present replication_ssl_cert (the consistency report reads the primary)', async () => {
    await c.unlogged(n1, [`ALTER USER '${REPL_USER}'@'%' REQUIRE X509`]);
    const v = await c.agent(n2, 'validate-all', { OCF_CHECK_LEVEL: '20' });
    assert.equal(v.code, 0, `${v.reason}\n${v.stderr}`);
    assert.match(v.stderr, /errant-transaction report \(primary n1\): n2: holds nothing that n1 lacks/);
    const without = await c.agent(n2, 'validate-all', { OCF_CHECK_LEVEL: '20', OCF_RESKEY_replication_ssl_cert: '', OCF_RESKEY_replication_ssl_key: '' });
    assert.match(without.stderr, /n1: not checked \(Access denied for user 'repl'@'127\.0\.0\.1'/);
    // A key named without its certificate is a configuration error, before anything is dialled.
    const half = await c.agent(n2, 'validate-all', { OCF_RESKEY_replication_ssl_cert: '' });
    assert.equal(half.code, 6, half.stderr);
    assert.equal(half.reason, 'replication_ssl_cert and replication_ssl_key go together: set both or neither');
    const missing = await c.agent(n2, 'validate-all', { OCF_RESKEY_replication_ssl_ca: join(pki.dir, 'nosuch.pem') });
    assert.equal(missing.code, 2, missing.stderr);
    assert.match(missing.reason ?? '', /^replication_ssl_ca: cannot read .*nosuch\.pem \(ENOENT\)$/);
  });
});
