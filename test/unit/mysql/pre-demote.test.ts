// pre-demote on the other nodes: which demotions mean "the primary's node is gone" (stop receiving
// from it at once) and which are a live primary handing over (keep receiving: a switchover or a
// standby waits for this very replica).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseNotify } from '../../../lib/ocf/notify.ts';
import { parseNodeStates } from '../../../lib/cluster/tools.ts';
import { demotedAndStopped, lostPrimary } from '../../../agents/mysql/notify/pre-demote.ts';

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
