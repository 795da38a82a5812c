// The write address ocf:vigil:mysql holds itself (write_ip), against the real kernel and a real
// MariaDB: the agent runs inside a network namespace on an isolated bridge (TEST-NET addresses
// only), talking to its server over the Unix socket. Promote takes the address after the duplicate
// probe, demote and stop release it, the primary's monitor puts it back, a replica never keeps it,
// and a second holder on the segment refuses the promotion with the server left read-only.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { run } from '../../lib/exec.ts';
import { TestNet, requireCommands, requireRoot } from './support/netns.ts';
import { AGENT, MariaCluster, type AgentRun, type Node } from './support/mariadb.ts';

const net = new TestNet('wa');
const WRITE = { write_ip: '192.0.2.50', write_cidr_netmask: '24', write_nic: 'eth0' };

describe('ocf:vigil:mysql write_ip: the primary holds its own write address', { timeout: 300_000 }, () => {
  let c: MariaCluster;
  let n1: Node;

  before(async () => {
    requireRoot('the write address tests');
    requireCommands(['ip', 'arping'], 'iproute2 iputils-arping');
    net.create();
    net.addHost({ name: 'h1', index: 1, v4: ['192.0.2.1/24'], v6: [] });
    net.addHost({ name: 'h2', index: 2, v4: ['192.0.2.2/24'], v6: [] });
    c = await MariaCluster.create({ nodes: 1, basePort: 33141, params: WRITE });
    n1 = c.nodes[0]!;
  });
  after(async () => {
    await c?.cleanup(process.env.VIGIL_KEEP_TEST_DIRS === '1');
    net.destroy();
  });

  /** The agent as Pacemaker runs it, but inside host h1's namespace. */
  const agent = async (action: string, extra: Record<string, string> = {}): Promise<AgentRun> => {
    const env = Object.entries(c.env(n1, extra)).map(([k, v]) => `${k}=${v}`);
    const r = await run('ip', ['netns', 'exec', net.ns('h1'), 'env', '-i', ...env, AGENT, action], { timeoutMs: 60_000 });
    c.track(n1);
    return { ...r, reason: /ocf-exit-reason:(.*)/.exec(r.stderr)?.[1] };
  };
  const held = (host: string) => /192\.0\.2\.50\/24/.test(net.exec(host, 'ip', ['-o', 'addr', 'show', 'dev', 'eth0']));
  const readOnly = async () => Number((await c.root(n1, 'SELECT @@read_only AS ro'))[0]!.ro);
  const PROMOTED_MONITOR = { OCF_RESKEY_CRM_meta_interval: '5000', OCF_RESKEY_CRM_meta_role: 'Promoted' };

  test('validate-all and start: the address is checked, not taken', async () => {
    const v = await agent('validate-all');
    assert.equal(v.code, 0, v.stderr);
    const bad = await agent('validate-all', { OCF_RESKEY_write_nic: 'eth9' });
    assert.equal(bad.code, 2, bad.stderr); // OCF_ERR_ARGS, as ocf:vigil:vip says it
    assert.match(bad.reason ?? '', /interface eth9 does not exist/);
    const s = await agent('start');
    assert.equal(s.code, 0, s.stderr);
    assert.equal(held('h1'), false, 'a replica must not hold the write address');
  });

  test('promote takes the address once the server is writable; monitor keeps it; demote releases it at once', async () => {
    const p = await agent('promote');
    assert.equal(p.code, 0, p.stderr);
    assert.equal(await readOnly(), 0);
    assert.ok(held('h1'), 'the write address is not on h1 after promote');
    assert.match(p.stderr, /took 192\.0\.2\.50\/24 on eth0/);
    // The segment learns it: h2 resolves it to h1.
    const a = net.exec('h2', 'arping', ['-c', '1', '-w', '2', '-I', 'eth0', '192.0.2.50']);
    assert.match(a, /reply from 192\.0\.2\.50/i);
    assert.equal((await agent('monitor', PROMOTED_MONITOR)).code, 8);
    // Someone removes it: the next monitor of the primary takes it back.
    net.exec('h1', 'ip', ['addr', 'del', '192.0.2.50/24', 'dev', 'eth0']);
    const m = await agent('monitor', PROMOTED_MONITOR);
    assert.equal(m.code, 8, m.stderr);
    assert.match(m.stderr, /was not on this node: taking it again/);
    assert.ok(held('h1'));
    const d = await agent('demote');
    assert.equal(d.code, 0, d.stderr);
    assert.equal(held('h1'), false, 'demote left the write address');
    assert.equal(await readOnly(), 1);
  });

  test('a second holder on the segment refuses the promotion, naming it; the server stays read-only', async () => {
    net.exec('h2', 'ip', ['addr', 'add', '192.0.2.50/24', 'dev', 'eth0']);
    try {
      const p = await agent('promote');
      assert.equal(p.code, 1, p.stderr);
      assert.match(p.reason ?? '', /192\.0\.2\.50 is already in use on eth0: host [0-9a-f:]{17} answered the duplicate probe/);
      assert.equal(await readOnly(), 1, 'a refused promotion must leave the server read-only');
      assert.equal(held('h1'), false);
    } finally {
      net.exec('h2', 'ip', ['addr', 'del', '192.0.2.50/24', 'dev', 'eth0']);
    }
  });

  test('a replica that holds the write address releases it; stop releases it too', async () => {
    net.exec('h1', 'ip', ['addr', 'add', '192.0.2.50/24', 'dev', 'eth0']);
    const m = await agent('monitor', { OCF_RESKEY_CRM_meta_interval: '7000', OCF_RESKEY_CRM_meta_role: 'Unpromoted' });
    assert.equal(m.code, 0, m.stderr);
    assert.match(m.stderr, /this replica held the write address 192\.0\.2\.50: released/);
    assert.equal(held('h1'), false);
    assert.equal((await agent('promote')).code, 0);
    assert.ok(held('h1'));
    const s = await agent('stop');
    assert.equal(s.code, 0, s.stderr);
    assert.equal(held('h1'), false, 'stop left the write address');
  });
});
