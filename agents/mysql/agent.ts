// The definition of ocf:vigil:mysql (main.ts runs it), a promotable clone of MariaDB or MySQL servers: one writable primary, GTID
// replicas that are read-only from their first moment, graded replica health published as node
// attributes and promotion scores.
import { defineAgent } from '../../lib/ocf/agent.ts';
import { params } from './params.ts';
import { start } from './actions/start.ts';
import { stop } from './actions/stop.ts';
import { monitor } from './actions/monitor.ts';
import { promote } from './actions/promote.ts';
import { demote } from './actions/demote.ts';
import { notify } from './actions/notify.ts';
import { validate } from './actions/validate.ts';

export const agent = defineAgent({
  name: 'mysql',
  version: '1.0.0',
  shortdesc: 'MariaDB/MySQL GTID replication as a promotable clone',
  longdesc: `Runs a MariaDB (10.6+) or MySQL (8.0.23+, 8.4) server on every node of a promotable clone: one writable primary, the others read-only GTID replicas of it.
The server is started directly (not through mysqld_safe), read-only and with replication stopped from its first moment; a started replica follows the promoted instance that the cluster reports.
Recurring monitors grade each replica OK, INFO, WARN, CRITICAL or FAIL from its replication threads, errors and lag, publish the grade and lag as the node attributes <resource>-grade and <resource>-lag (a read-only virtual IP can follow healthy replicas with a location rule), and derive the promotion score from the grade: a FAIL replica is never promotable.
Failover elects the most advanced replica: at pre-promote every node publishes its GTID position as the private attribute <resource>-position, and a candidate that finds a peer ahead of it gives way (raises that peer's promotion score, lowers its own and fails the promotion on purpose). Promote applies everything received and checks that no other server still accepts writes before the server becomes writable; demote makes it read-only at once and ends client sessions, and in a planned switchover waits until the target holds every transaction. With semisync=true the primary commits only once a replica has acknowledged.
A former primary joins the new one only if it holds no transaction the new primary lacks; otherwise its start fails with the list of those errant transactions, which validate-all at OCF_CHECK_LEVEL 20 also reports for every node.
Passwords are used in-process only (never on a command line) and may come from a root-only file instead of the CIB.
Only MariaDB is exercised against real servers by the test suite; MySQL statements are checked against recorded server answers.
Configure as a promotable clone with notify=true and promoted-max=1.`,
  params,
  actions: {
    start: { run: start, meta: [{ timeout: 120 }] },
    stop: { run: stop, meta: [{ timeout: 120 }] },
    monitor: { run: monitor, meta: [{ timeout: 30, interval: 5, role: 'Promoted' }, { timeout: 30, interval: 7, role: 'Unpromoted' }] },
    promote: { run: promote, meta: [{ timeout: 120 }] },
    demote: { run: demote, meta: [{ timeout: 120 }] },
    notify: { run: notify, meta: [{ timeout: 90 }] },
  },
  validate,
  examples: [
    'pcs resource create db ocf:vigil:mysql replication_user=repl replication_password_file=/etc/vigil/repl.pw config=/etc/mysql/my.cnf promotable promoted-max=1 notify=true',
    'pcs constraint colocation add db-ro-vip with Unpromoted db-clone 200   # a read-only VIP (resource-stickiness=100) on a replica...',
    'pcs constraint location db-ro-vip rule score=-INFINITY not_defined db-grade or db-grade ne OK   # ...graded OK',
  ],
});

