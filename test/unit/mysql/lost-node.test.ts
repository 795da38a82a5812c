// A node that left the membership: pre-demote on the other nodes stops receiving from a lost
// primary at once (a live primary handing over, in a switchover or a standby, is waited for), and
// the writable-peer guard gives a lost (fenced) node's server a short look instead of peer_timeout.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseNotify } from '../../../lib/ocf/notify.ts';
import { parseNodeStates } from '../../../lib/cluster/tools.ts';
import { demotedAndStopped, lostPrimary } from '../../../agents/mysql/notify/pre-demote.ts';
import { LOST_PEER_TIMEOUT_MS, peerTimeoutFor } from '../../../agents/mysql/guard.ts';

const env = (o: Record<string, string>, type = 'pre') => parseNotify({
  OCF_RESKEY_CRM_meta_notify_type: type, OCF_RESKEY_CRM_meta_notify_operation: 'demote',
  OCF_RESKEY_CRM_meta_notify_all_uname: 'n1 n2 n3', OCF_RESKEY_CRM_meta_notify_available_uname: 'n2 n3 n1',
  ...Object.fromEntries(Object.entries(o).map(([k, v]) => [`OCF_RESKEY_CRM_meta_notify_${k}`, v])),
})!;
// What Pacemaker 2.1.5 sends the survivors right after n1 (the primary) left the membership, before
// the fencing (seen in the lab): available_uname still names n1.
const lostN1 = env({ demote_uname: 'n1', demote_resource: 'db:0', promoted_uname: 'n1', promoted_resource: 'db:0',
  stop_uname: 'n1', stop_resource: 'db:0', promote_uname: 'n2', promote_resource: 'db:1' });
const members = parseNodeStates('1 n1 member\n2 n2 member\n3 n3 member\n');
const n1Lost = parseNodeStates('1 n1 lost\n2 n2 member\n3 n3 member\n');

test('crm_node -l states', () => {
  assert.deepEqual([...n1Lost], [['n1', 'lost'], ['n2', 'member'], ['n3', 'member']]);
  assert.deepEqual([...parseNodeStates('garbage\n\n  4 node-four member\n')], [['node-four', 'member']]);
});

test('lostPrimary: the demoted and stopped primary whose node left the membership', () => {
  assert.equal(lostPrimary(lostN1, 'n2', n1Lost), 'n1');
  assert.equal(lostPrimary(lostN1, 'n3', n1Lost), 'n1');
  assert.equal(lostPrimary(lostN1, 'n1', n1Lost), undefined, 'never about itself');
});

test('lostPrimary: a live primary (switchover, standby, dead server on a live node) and other notifications: nothing', () => {
  assert.equal(lostPrimary(lostN1, 'n2', members), undefined, 'standby or a dead server: the node is still a member');
  const switchover = env({ demote_uname: 'n1', promote_uname: 'n2', promoted_uname: 'n1' });
  assert.equal(demotedAndStopped(switchover, 'n2'), undefined, 'a switchover keeps the old primary running');
  assert.equal(lostPrimary(switchover, 'n2', n1Lost), undefined);
  assert.equal(lostPrimary(env({ demote_uname: ' ', stop_uname: 'n1' }), 'n2', n1Lost), undefined, 'no demotion');
  assert.equal(lostPrimary(env({ demote_uname: 'n1', stop_uname: 'n1' }, 'post'), 'n2', n1Lost), undefined, 'only the pre-notification');
  assert.equal(lostPrimary(lostN1, 'n2', parseNodeStates('2 n2 member\n')), undefined, 'a node the membership does not list: unknown, not lost');
});

test('guard: a node that left the membership gets a short look; members and unknown nodes get peer_timeout', () => {
  assert.equal(LOST_PEER_TIMEOUT_MS, 200);
  const cases: Array<[string, ReadonlyMap<string, string> | undefined, number, number]> = [
    ['n1', n1Lost, 1000, 200],
    ['n1', n1Lost, 150, 150],
    ['n2', n1Lost, 1000, 1000],
    ['n1', members, 1000, 1000],
    ['n4', n1Lost, 1000, 1000],
    ['n1', undefined, 1000, 1000],
  ];
  for (const [node, m, pt, want] of cases) assert.equal(peerTimeoutFor(node, m, pt), want, `${node} ${JSON.stringify(m && [...m])} ${pt}`);
});
