// lib/mysql/prerequisites.ts: the settings every server needs (both flavours), the option-file
// reading of mariadbd --verbose --help, identities against the peers, and the fencing verdict;
// ClusterTools.clusterProperties (where promote reads stonith-enabled) with a recording runner.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { RunResult, Runner } from '../../../lib/exec.ts';
import { ClusterTools } from '../../../lib/cluster/tools.ts';
import type { FlavourName } from '../../../lib/mysql/flavour.ts';
import {
  fencingVerdict, identityClashes, identityFromRow, identityQuery, requiredSettings, settingProblems, settingsReason,
  variablesFromHelp, variablesFromRows, variablesQuery, type Variables,
} from '../../../lib/mysql/prerequisites.ts';

const MARIADB_OK = { log_bin: 'ON', log_slave_updates: 'ON', gtid_strict_mode: 'ON', server_id: '1' };
const MYSQL_OK = { log_bin: 'ON', gtid_mode: 'ON', enforce_gtid_consistency: 'ON', log_replica_updates: 'ON', server_id: '2' };

test('settingProblems: each wrong setting is named with its value and the fix, for every flavour', () => {
  const cases: Array<[FlavourName, Variables, Array<[string, string | undefined, string]>]> = [
    ['mariadb', MARIADB_OK, []],
    ['mariadb', { ...MARIADB_OK, log_slave_updates: 'OFF' }, [['log_slave_updates', 'OFF', 'log_slave_updates = ON']]],
    ['mariadb', { ...MARIADB_OK, gtid_strict_mode: 'OFF' }, [['gtid_strict_mode', 'OFF', 'gtid_strict_mode = ON']]],
    ['mariadb', { ...MARIADB_OK, log_bin: 'OFF' }, [['log_bin', 'OFF', 'log_bin = mysql-bin']]],
    ['mariadb', { ...MARIADB_OK, server_id: '0' }, [['server_id', '0', 'server_id = <a number unique to this node>']]],
    ['mariadb', { ...MARIADB_OK, log_bin: 'OFF', log_slave_updates: 'OFF', gtid_strict_mode: 'OFF' },
      [['log_bin', 'OFF', 'log_bin = mysql-bin'], ['log_slave_updates', 'OFF', 'log_slave_updates = ON'], ['gtid_strict_mode', 'OFF', 'gtid_strict_mode = ON']]],
    // A newer MariaDB may name it log_replica_updates; either name counts, the reported one is named.
    ['mariadb', { log_bin: 'ON', log_replica_updates: 'ON', gtid_strict_mode: 'ON', server_id: '3' }, []],
    ['mariadb', { log_bin: 'ON', log_replica_updates: 'OFF', gtid_strict_mode: 'ON', server_id: '3' }, [['log_replica_updates', 'OFF', 'log_slave_updates = ON']]],
    // --help's TRUE/FALSE read like ON/OFF.
    ['mariadb', { log_bin: 'ON', log_slave_updates: 'TRUE', gtid_strict_mode: 'FALSE', server_id: '3' }, [['gtid_strict_mode', 'OFF', 'gtid_strict_mode = ON']]],
    // Not reported at all: named as such, never taken for fine.
    ['mariadb', { log_bin: 'ON', server_id: '3' }, [['log_slave_updates', undefined, 'log_slave_updates = ON'], ['gtid_strict_mode', undefined, 'gtid_strict_mode = ON']]],
    ['mysql80', MYSQL_OK, []],
    ['mysql84', MYSQL_OK, []],
    ['mysql80', { ...MYSQL_OK, gtid_mode: 'ON_PERMISSIVE' }, [['gtid_mode', 'ON_PERMISSIVE', 'gtid_mode = ON']]],
    ['mysql80', { ...MYSQL_OK, gtid_mode: 'OFF', enforce_gtid_consistency: 'WARN' },
      [['gtid_mode', 'OFF', 'gtid_mode = ON'], ['enforce_gtid_consistency', 'WARN', 'enforce_gtid_consistency = ON']]],
    ['mysql84', { ...MYSQL_OK, log_replica_updates: 'OFF' }, [['log_replica_updates', 'OFF', 'log_replica_updates = ON']]],
    ['mysql84', { ...MYSQL_OK, log_bin: 'OFF' }, [['log_bin', 'OFF', 'log_bin = mysql-bin']]],
    // 8.0.23-8.0.25 know only log_slave_updates.
    ['mysql80', { log_bin: 'ON', gtid_mode: 'ON', enforce_gtid_consistency: 'ON', log_slave_updates: 'ON', server_id: '2' }, []],
    ['mysql80', { log_bin: 'ON', gtid_mode: 'ON', enforce_gtid_consistency: 'ON', log_slave_updates: 'OFF', server_id: '2' }, [['log_slave_updates', 'OFF', 'log_replica_updates = ON']]],
    ['mysql80', { ...MYSQL_OK, server_id: '0' }, [['server_id', '0', 'server_id = <a number unique to this node>']]],
    // MariaDB's gtid_strict_mode means nothing to MySQL and is not asked of it; nor MySQL's gtid_mode of MariaDB.
    ['mysql80', { ...MYSQL_OK, gtid_strict_mode: 'OFF' }, []],
    ['mariadb', { ...MARIADB_OK, gtid_mode: 'OFF' }, []],
  ];
  for (const [flavour, vars, want] of cases) {
    const got = settingProblems(flavour, vars).map((p) => [p.setting, p.value, p.fix]);
    assert.deepEqual(got, want, `${flavour} ${JSON.stringify(vars)}`);
  }
});

test('the query asks for every name a requirement may go by, and its rows become variables', () => {
  assert.equal(variablesQuery('mariadb'),
    "SHOW GLOBAL VARIABLES WHERE Variable_name IN ('log_bin', 'log_replica_updates', 'log_slave_updates', 'gtid_strict_mode', 'server_id')");
  assert.equal(variablesQuery('mysql84'),
    "SHOW GLOBAL VARIABLES WHERE Variable_name IN ('log_bin', 'gtid_mode', 'enforce_gtid_consistency', 'log_replica_updates', 'log_slave_updates', 'server_id')");
  assert.deepEqual(variablesFromRows([{ Variable_name: 'log_bin', Value: 'ON' }, { Variable_name: 'server_id', Value: '3' }]), { log_bin: 'ON', server_id: '3' });
  for (const f of ['mariadb', 'mysql80', 'mysql84'] as const) {
    for (const r of requiredSettings(f)) assert.ok(r.why.length > 20, `${f} ${r.names[0]} says why`);
  }
});

test('settingsReason names every setting, its value and where to fix it', () => {
  const problems = settingProblems('mariadb', { ...MARIADB_OK, log_slave_updates: 'OFF', gtid_strict_mode: 'OFF' });
  const reason = settingsReason(problems, '/etc/mysql/my.cnf');
  assert.equal(reason, 'wrong server settings: log_slave_updates is OFF, gtid_strict_mode is OFF; '
    + 'put "log_slave_updates = ON", "gtid_strict_mode = ON" in the [mysqld] section of /etc/mysql/my.cnf '
    + '(the election and the errant-transaction check rely on them)');
  // What crm_mon shows (Pacemaker keeps 128 characters) still names every setting.
  assert.match(reason.slice(0, 128), /log_slave_updates is OFF, gtid_strict_mode is OFF/);
  assert.match(settingsReason(settingProblems('mysql80', { ...MYSQL_OK, gtid_mode: undefined }), undefined),
    /^wrong server settings: gtid_mode is not reported; put "gtid_mode = ON" in the \[mysqld\] section of the server's option file/);
});

// As mariadbd 10.11 prints it (cut down), with log-bin set, then without, then --skip-log-bin.
const help = (logBin: string, slaveUpdates: string) => `mariadbd  Ver 10.11.19-MariaDB-0+deb12u1-log for debian-linux-gnu on x86_64 (Debian 12)
Copyright (c) 2000, 2018, Oracle, MariaDB Corporation Ab and others.

  --log-slave-updates Tells the slave to log the updates from the slave thread
                      to the binary log. You will need to turn it on if you
  -u, --user=name     Run mysqld daemon as user.

Variables (--variable-name=value)
and boolean options {FALSE|TRUE}                             Value (after reading options)
------------------------------------------------------------ -------------
gtid-domain-id                                               0
gtid-strict-mode                                             TRUE
log-basename                                                 vm
log-bin                                                      ${logBin}
log-bin-index                                                (No default value)
log-slave-updates                                            ${slaveUpdates}
server-id                                                    7

To see what variables a running server is using, type
'SELECT * FROM INFORMATION_SCHEMA.GLOBAL_VARIABLES' instead of 'mysqld --verbose --help' or 'mariadbd --verbose --help'.
`;

test('variablesFromHelp: the settings a stopped MariaDB would start with', () => {
  const v = variablesFromHelp(help('mysql-bin', 'TRUE'));
  assert.equal(v.log_bin, 'ON');
  assert.equal(v.server_id, '7');
  assert.deepEqual(settingProblems('mariadb', v), []);
  assert.deepEqual(settingProblems('mariadb', variablesFromHelp(help('(No default value)', 'FALSE'))).map((p) => `${p.setting}=${p.value}`),
    ['log_bin=OFF', 'log_slave_updates=OFF']);
  assert.equal(variablesFromHelp(help('0', 'TRUE')).log_bin, 'OFF');
  // The option descriptions above the table are not variables.
  assert.equal(variablesFromHelp(help('x', 'TRUE')).user, undefined);
  assert.deepEqual(variablesFromHelp('mariadbd: unknown option --foo'), {});
});

test('identityClashes: a shared server_id or server_uuid is named; silent peers are not checked, not errors', () => {
  const me = { serverId: '1', serverUuid: 'aaaa', hostname: 'h1', port: '3306', datadir: '/var/lib/mysql/' };
  const cases: Array<[Parameters<typeof identityClashes>[1], string[], string[]]> = [
    [[{ node: 'n2', identity: { serverId: '2', serverUuid: 'bbbb', hostname: 'h2', port: '3306', datadir: '/var/lib/mysql/' } }], [], []],
    [[{ node: 'n2', identity: { serverId: '1', serverUuid: 'bbbb', hostname: 'h2', port: '3306', datadir: '/var/lib/mysql/' } }],
      ["n2's server has the same server_id 1 as this one: give every server its own server_id"], []],
    [[{ node: 'n3', identity: { serverId: '3', serverUuid: 'aaaa', hostname: 'h3', port: '3306', datadir: '/var/lib/mysql/' } }],
      ["n3's server has the same server_uuid aaaa as this one (a copied datadir): remove auto.cnf from one of them and restart it"], []],
    [[{ node: 'n2', unanswered: 'connect ECONNREFUSED' }, { node: 'n3', identity: { serverId: '3', hostname: 'h3' } }], [], ['n2 (connect ECONNREFUSED)']],
    // Same host, port and datadir: node_map sends the peer to this very server.
    [[{ node: 'n2', identity: { ...me } }], ["n2's address reaches this node's own server (h1:3306): fix node_map"], []],
    // Same host, another port (servers side by side, as in the tests): a different server.
    [[{ node: 'n2', identity: { ...me, port: '3307', serverId: '2', serverUuid: 'cccc' } }], [], []],
  ];
  for (const [peers, clashes, unchecked] of cases) assert.deepEqual(identityClashes(me, peers), { clashes, unchecked }, JSON.stringify(peers));
  // MariaDB has no server_uuid; from the option file only server_id is known.
  assert.deepEqual(identityClashes({ serverId: '4' }, [{ node: 'n2', identity: { serverId: '4', hostname: 'h2' } }]).clashes,
    ["n2's server has the same server_id 4 as this one: give every server its own server_id"]);
  assert.deepEqual(identityFromRow({ server_id: 5, server_uuid: '', hostname: 'h', port: 3306, datadir: '/d/' }),
    { serverId: '5', serverUuid: undefined, hostname: 'h', port: '3306', datadir: '/d/' });
  assert.match(identityQuery('mariadb'), /'' AS server_uuid/);
  assert.match(identityQuery('mysql80'), /@@server_uuid AS server_uuid/);
});

test('fencingVerdict: only a readable, true stonith-enabled promotes without the operator accepting the risk', () => {
  const cases: Array<[Parameters<typeof fencingVerdict>[0], boolean, 'ok' | 'refuse' | 'warn']> = [
    [{ ok: true, value: undefined }, false, 'ok'], // absent: Pacemaker's default, true
    [{ ok: true, value: 'true' }, false, 'ok'],
    [{ ok: true, value: 'TRUE' }, false, 'ok'],
    [{ ok: true, value: 'yes' }, false, 'ok'],
    [{ ok: true, value: '1' }, false, 'ok'],
    [{ ok: true, value: 'on' }, false, 'ok'],
    [{ ok: true, value: 'false' }, false, 'refuse'],
    [{ ok: true, value: 'off' }, false, 'refuse'],
    [{ ok: true, value: 'no' }, false, 'refuse'],
    [{ ok: true, value: '0' }, false, 'refuse'],
    [{ ok: true, value: 'n' }, false, 'refuse'],
    [{ ok: true, value: 'maybe' }, false, 'refuse'],
    [{ ok: false, reason: 'crm_attribute timed out' }, false, 'refuse'],
    [{ ok: true, value: 'false' }, true, 'warn'],
    [{ ok: false, reason: 'crm_attribute timed out' }, true, 'warn'],
    [{ ok: true, value: 'true' }, true, 'ok'],
  ];
  for (const [read, allow, want] of cases) {
    const v = fencingVerdict(read, allow);
    const got = v.refuse ? 'refuse' : v.warn ? 'warn' : 'ok';
    assert.equal(got, want, JSON.stringify([read, allow]));
  }
  const r = fencingVerdict({ ok: true, value: 'false' }, false).refuse!;
  assert.match(r.slice(0, 128), /^not promoted: stonith-enabled=false \(fencing disabled\) and allow_without_fencing is not set/);
  assert.match(r, /set allow_without_fencing=true to accept that risk/);
  assert.match(fencingVerdict({ ok: false, reason: 'crm_attribute timed out' }, false).refuse!, /^not promoted: stonith-enabled cannot be read \(crm_attribute timed out\)/);
});

test('ClusterTools.clusterProperties: every nvpair of crm_config in one query, values unescaped (stonith-enabled, the record)', async () => {
  const xml = '<crm_config><cluster_property_set id="cib-bootstrap-options"><nvpair id="o1" name="stonith-enabled" value="false"/></cluster_property_set>' +
    '<cluster_property_set id="vigil-db"><nvpair value="{&quot;v&quot;:1,&quot;a&quot;:&quot;x&amp;y&lt;z&quot;}" name="db-last-primary" id="o2"/></cluster_property_set></crm_config>';
  const answers: Array<Partial<RunResult>> = [{ stdout: xml }, { code: 102, stderr: 'Could not connect to the CIB: Transport endpoint is not connected\n' }];
  const calls: string[][] = [];
  const runner: Runner = async (cmd, args) => {
    calls.push([cmd, ...args]);
    return { command: cmd, args, code: 0, signal: null, stdout: '', stderr: '', timedOut: false, durationMs: 1, ...answers.shift() };
  };
  const t = new ClusterTools({ runner, instance: 'db:1', node: 'n1', timeoutMs: 1000 });
  const r = await t.clusterProperties();
  assert.equal(r.value!.get('stonith-enabled'), 'false');
  assert.equal(r.value!.get('db-last-primary'), '{"v":1,"a":"x&y<z"}');
  assert.deepEqual(calls[0], ['cibadmin', '--query', '--scope', 'crm_config']);
  const failed = await t.clusterProperties();
  assert.equal(failed.ok, false);
  assert.match(failed.reason!, /Could not connect to the CIB/);
});

test('liveSettingProblems asks the server in one statement and judges by its flavour (MySQL 8.0 and 8.4, MariaDB)', async () => {
  const { liveSettingProblems } = await import('../../../agents/mysql/prerequisites.ts');
  const { sqlFor, detectFlavour } = await import('../../../lib/mysql/flavour.ts');
  const session = (version: string, comment: string, vars: Record<string, string>) => {
    const asked: string[] = [];
    const v = detectFlavour(version, comment);
    assert.ok(typeof v !== 'string');
    const db = {
      query: async (q: unknown) => {
        asked.push(String(q));
        return Object.entries(vars).map(([Variable_name, Value]) => ({ Variable_name, Value }));
      },
      exec: async () => undefined,
      close: async () => undefined,
    };
    return { s: { db, sql: sqlFor(v.flavour), version: v }, asked };
  };
  const m84 = session('8.4.3', 'MySQL Community Server - GPL', { ...MYSQL_OK, gtid_mode: 'OFF_PERMISSIVE' });
  assert.deepEqual((await liveSettingProblems(m84.s)).map((p) => `${p.setting}=${p.value}`), ['gtid_mode=OFF_PERMISSIVE']);
  assert.deepEqual(m84.asked, [variablesQuery('mysql84')]);
  // 8.0.25 knows log_slave_updates only.
  const m80 = session('8.0.25', 'MySQL Community Server - GPL', { log_bin: 'ON', gtid_mode: 'ON', enforce_gtid_consistency: 'OFF', log_slave_updates: 'OFF', server_id: '3' });
  assert.deepEqual((await liveSettingProblems(m80.s)).map((p) => `${p.setting}=${p.value}`), ['enforce_gtid_consistency=OFF', 'log_slave_updates=OFF']);
  const maria = session('10.11.6-MariaDB-0+deb12u1-log', 'Debian 12', { ...MARIADB_OK });
  assert.deepEqual(await liveSettingProblems(maria.s), []);
});
