// Prerequisites checked, not assumed (issue 12 item 4), against real mariadbd servers: start and
// validate-all refuse (rc 6) a server whose binary log misses what it applies or whose GTIDs are
// not strict, naming each setting; validate-all at depth 10 finds two servers sharing a server_id;
// promotion refuses while the cluster has fencing disabled, unless allow_without_fencing=true.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MariaCluster, MYSQL, flavours, type Node } from './support/mariadb.ts';

describe('ocf:vigil:mysql prerequisites', { timeout: 300_000, skip: !flavours().some((f) => f.name === 'mariadb') && 'VIGIL_FLAVOURS has no mariadb' }, () => {
  let c: MariaCluster;
  let n1: Node;
  let n2: Node;

  before(async () => {
    c = await MariaCluster.create({ nodes: 3, basePort: 33121 });
    [n1, n2] = c.nodes as [Node, Node, Node];
  });
  after(async () => { await c?.cleanup(process.env.VIGIL_KEEP_TEST_DIRS === '1'); });

  /** Set `name` in the node's option file (replacing its line), as an operator would edit it. */
  const setOption = (n: Node, name: string, value: string) => {
    const lines = readFileSync(n.config, 'utf8').split('\n').filter((l) => !l.startsWith(`${name}=`));
    const at = lines.indexOf('[mysqld]') + 1;
    lines.splice(at, 0, `${name}=${value}`);
    writeFileSync(n.config, lines.join('\n'));
  };
  const depth10 = { OCF_CHECK_LEVEL: '10' };

  test('start refuses a server without log_slave_updates and gtid_strict_mode (rc 6) and leaves it stopped; so does validate-all', async () => {
    setOption(n1, 'log_slave_updates', 'OFF');
    setOption(n1, 'gtid_strict_mode', 'OFF');
    try {
      const s = await c.agent(n1, 'start');
      assert.equal(s.code, 6, `${s.reason}\n${s.stderr}`);
      assert.match(s.reason ?? '', /^wrong server settings: log_slave_updates is OFF, gtid_strict_mode is OFF; put "log_slave_updates = ON", "gtid_strict_mode = ON" in the \[mysqld\] section of .*my\.cnf/);
      assert.equal(c.pid(n1), undefined, 'the server start refused is stopped again');
      // Stopped: validate-all reads what the option files would give the server.
      const v = await c.agent(n1, 'validate-all');
      assert.equal(v.code, 6, `${v.reason}\n${v.stderr}`);
      assert.match(v.reason ?? '', /log_slave_updates is OFF/);
      assert.match(v.reason ?? '', /gtid_strict_mode is OFF/);
      // The command line counts too: additional_parameters override the option file.
      setOption(n1, 'log_slave_updates', 'ON');
      setOption(n1, 'gtid_strict_mode', 'ON');
      assert.equal((await c.agent(n1, 'validate-all')).code, 0);
      const a = await c.agent(n1, 'validate-all', { OCF_RESKEY_additional_parameters: '--skip-log-bin' });
      assert.equal(a.code, 6, `${a.reason}\n${a.stderr}`);
      assert.match(a.reason ?? '', /log_bin is OFF; put "log_bin = mysql-bin"/);
    } finally {
      setOption(n1, 'log_slave_updates', 'ON');
      setOption(n1, 'gtid_strict_mode', 'ON');
    }
  });

  test('validate-all reads the running server\'s live settings', async () => {
    await c.agentOk(n1, 'start');
    assert.equal((await c.agent(n1, 'validate-all')).code, 0);
    await c.root(n1, 'SET GLOBAL gtid_strict_mode = OFF');
    try {
      const v = await c.agent(n1, 'validate-all');
      assert.equal(v.code, 6, `${v.reason}\n${v.stderr}`);
      assert.match(v.reason ?? '', /gtid_strict_mode is OFF/);
      assert.doesNotMatch(v.reason ?? '', /log_slave_updates/);
    } finally {
      await c.root(n1, 'SET GLOBAL gtid_strict_mode = ON');
    }
    assert.equal((await c.agent(n1, 'validate-all')).code, 0);
  });

  test('depth 10: a server_id shared with a peer is found, running or not; a peer that does not answer is not checked', async () => {
    setOption(n2, 'server_id', '1');
    await c.agentOk(n2, 'start');
    // Depth 0 does not ask the peers.
    assert.equal((await c.agent(n1, 'validate-all')).code, 0);
    const v = await c.agent(n1, 'validate-all', depth10);
    assert.equal(v.code, 6, `${v.reason}\n${v.stderr}`);
    assert.match(v.reason ?? '', /n2's server has the same server_id 1 as this one/);
    assert.match(v.stderr, /server identity not checked against n3 \(/, 'n3 runs no server: not checked, not an error');
    // n1 stopped: its server_id comes from its option file.
    await c.agentOk(n1, 'stop');
    const s = await c.agent(n1, 'validate-all', depth10);
    assert.equal(s.code, 6, `${s.reason}\n${s.stderr}`);
    assert.match(s.reason ?? '', /n2's server has the same server_id 1/);
    // Told apart again, both pass.
    await c.agentOk(n2, 'stop');
    setOption(n2, 'server_id', '2');
    await c.agentOk(n2, 'start');
    await c.agentOk(n1, 'start');
    const ok = await c.agent(n1, 'validate-all', depth10);
    assert.equal(ok.code, 0, `${ok.reason}\n${ok.stderr}`);
    assert.match(ok.stderr, /server_id 1 is this server's own among 1 peer/);
  });

  test('promotion refuses while stonith-enabled=false, unless allow_without_fencing=true', async () => {
    for (const n of [n1, n2]) if (!c.pid(n)) await c.agentOk(n, 'start');
    const prop = join(c.fakeDir, 'crm_config');
    mkdirSync(prop, { recursive: true });
    writeFileSync(join(prop, 'stonith-enabled'), 'false');
    try {
      await c.notifyAll('pre', 'promote', { promote: [n1] });
      const p = await c.agent(n1, 'promote');
      assert.equal(p.code, 1, `${p.reason}\n${p.stderr}`);
      assert.match(p.reason ?? '', /^not promoted: stonith-enabled=false \(fencing disabled\) and allow_without_fencing is not set/);
      assert.match(p.reason ?? '', /set allow_without_fencing=true to accept that risk/);
      const [ro] = await c.root(n1, 'SELECT @@read_only AS ro');
      assert.equal(Number(ro!.ro), 1, 'the refused server stays read-only');

      await c.notifyAll('pre', 'promote', { promote: [n1] });
      const a = await c.agent(n1, 'promote', { OCF_RESKEY_allow_without_fencing: 'true' });
      assert.equal(a.code, 0, `${a.reason}\n${a.stderr}`);
      assert.match(a.stderr, /promoting anyway because allow_without_fencing=true/);
    } finally {
      rmSync(join(prop, 'stonith-enabled'), { force: true });
    }
  });
});

// The same checks with MySQL 9.7's own settings (34121-34122): gtid_mode, enforce_gtid_consistency
// and log_replica_updates; and at depth 10 a server_uuid shared through a copied auto.cnf.
describe('ocf:vigil:mysql prerequisites (MySQL)', { timeout: 300_000, skip: !flavours().includes(MYSQL) && 'VIGIL_FLAVOURS has no mysql' }, () => {
  let c: MariaCluster;
  let n1: Node;
  let n2: Node;

  before(async () => {
    c = await MariaCluster.create({ flavour: MYSQL, nodes: 2, basePort: 33121 });
    [n1, n2] = c.nodes as [Node, Node];
  });
  after(async () => { await c?.cleanup(process.env.VIGIL_KEEP_TEST_DIRS === '1'); });

  const setOption = (n: Node, name: string, value: string) => {
    const lines = readFileSync(n.config, 'utf8').split('\n').filter((l) => !l.startsWith(`${name}=`));
    lines.splice(lines.indexOf('[mysqld]') + 1, 0, `${name}=${value}`);
    writeFileSync(n.config, lines.join('\n'));
  };

  test('start refuses a server without GTIDs and log_replica_updates (rc 6), naming MySQL\'s settings, and leaves it stopped', async () => {
    setOption(n1, 'gtid_mode', 'OFF');
    setOption(n1, 'enforce_gtid_consistency', 'OFF');
    setOption(n1, 'log_replica_updates', 'OFF');
    try {
      const s = await c.agent(n1, 'start');
      assert.equal(s.code, 6, `${s.reason}\n${s.stderr}`);
      assert.match(s.reason ?? '', /^wrong server settings: gtid_mode is OFF, enforce_gtid_consistency is OFF, log_replica_updates is OFF; put "gtid_mode = ON", "enforce_gtid_consistency = ON", "log_replica_updates = ON" in the \[mysqld\] section of .*my\.cnf/);
      assert.equal(c.pid(n1), undefined, 'the server start refused is stopped again');
    } finally {
      for (const k of ['gtid_mode', 'enforce_gtid_consistency', 'log_replica_updates']) setOption(n1, k, 'ON');
    }
    await c.agentOk(n1, 'start');
    assert.equal((await c.agent(n1, 'validate-all')).code, 0);
  });

  test('depth 10: a server_uuid shared through a copied auto.cnf is refused; a new one heals it', async () => {
    await c.agentOk(n2, 'start');
    assert.equal((await c.agent(n1, 'validate-all', { OCF_CHECK_LEVEL: '10' })).code, 0);
    await c.agentOk(n2, 'stop');
    copyFileSync(join(n1.datadir, 'auto.cnf'), join(n2.datadir, 'auto.cnf'));
    await c.agentOk(n2, 'start');
    const uuid = String((await c.root(n1, 'SELECT @@server_uuid AS u'))[0]!.u);
    const v = await c.agent(n1, 'validate-all', { OCF_CHECK_LEVEL: '10' });
    assert.equal(v.code, 6, `${v.reason}\n${v.stderr}`);
    assert.match(v.reason ?? '', new RegExp(`n2's server has the same server_uuid ${uuid} as this one \\(a copied datadir\\): remove auto\\.cnf`));
    await c.agentOk(n2, 'stop');
    rmSync(join(n2.datadir, 'auto.cnf'));
    await c.agentOk(n2, 'start');
    assert.equal((await c.agent(n1, 'validate-all', { OCF_CHECK_LEVEL: '10' })).code, 0);
  });
});
