// fence_ipmi, the built bundle, against real OpenIPMI ipmi_sim BMCs on loopback addresses
// 127.0.51.x (ports 1623x), run with the environment Pacemaker gives fence agents.
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSocket, type Socket } from 'node:dgram';
import { run, type RunResult } from '../../lib/exec.ts';
import { stonithAdminMetadata } from './support/stonith.ts';
import { startIpmiSim, stopAllIpmiSims, type IpmiSim } from './support/ipmisim.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const AGENT = join(ROOT, 'dist/sbin/fence_ipmi');
const PATH = '/usr/sbin:/usr/bin:/sbin:/bin';
const PASSWORD = 'Vig1l-fence-77'; // unique enough to find in any process's argv
const USER = 'admin';

async function agent(args: string[], stdin = '', timeoutMs = 30_000): Promise<RunResult> {
  return run(AGENT, args, { timeoutMs, input: stdin, env: { PATH }, cleanEnv: true });
}

before(async () => {
  for (const bin of ['ipmi_sim', 'ipmitool']) {
    const r = await run('sh', ['-c', 'command -v "$1"', 'sh', bin], { timeoutMs: 5000 });
    assert.equal(r.code, 0, `${bin} is required (apt-get install openipmi ipmitool)`);
  }
  // Always test the current source: rebuild just this bundle (esbuild, well under a second).
  const b = await run(process.execPath, [join(ROOT, 'build/bundle.mjs'), 'fence_ipmi'], { timeoutMs: 60_000, cwd: ROOT });
  assert.equal(b.code, 0, b.stderr);
  assert.ok(existsSync(AGENT));
});
const scratch: string[] = [];
after(async () => {
  await stopAllIpmiSims();
  for (const d of scratch) rmSync(d, { recursive: true, force: true });
});

describe('every action, three ways (stdin, short options, long options)', () => {
  let bmc: IpmiSim;
  before(async () => {
    bmc = await startIpmiSim({ address: '127.0.51.1', port: 16231, users: [{ name: USER, password: PASSWORD }] });
  });
  after(() => bmc.stop());

  const conn = () => ({ ip: bmc.address, ipport: String(bmc.port) });
  type Way = 'stdin' | 'short' | 'long';
  const invoke = (way: Way, action: string) => {
    const c = conn();
    if (way === 'stdin') {
      return agent([], `# ${action} through stdin\naction=${action}\nip=${c.ip}\nipport=${c.ipport}\nusername=${USER}\npassword="${PASSWORD}"\nlanplus=1\npower_wait=0\n`);
    }
    if (way === 'short') return agent(['-o', action, '-a', c.ip, '-u', c.ipport, '-l', USER, '-p', PASSWORD, '-P', '--power-wait=0']);
    return agent([`--action=${action}`, `--ip=${c.ip}`, '--ipport', c.ipport, `--username=${USER}`, '--password', PASSWORD, '--lanplus', '--power-wait', '0']);
  };

  interface Case { action: string; before?: 'on' | 'off'; rc: number; out: string | RegExp; after?: 'on' | 'off'; sets?: string[] }
  const CASES: Case[] = [
    { action: 'status', before: 'on', rc: 0, out: 'Status: ON\n', after: 'on', sets: [] },
    { action: 'status', before: 'off', rc: 2, out: 'Status: OFF\n', after: 'off', sets: [] },
    { action: 'on', before: 'off', rc: 0, out: 'Success: Powered ON\n', after: 'on', sets: ['set power 1'] },
    { action: 'on', before: 'on', rc: 0, out: 'Success: Already ON\n', after: 'on', sets: [] },
    { action: 'off', before: 'on', rc: 0, out: 'Success: Powered OFF\n', after: 'off', sets: ['set power 0'] },
    { action: 'off', before: 'off', rc: 0, out: 'Success: Already OFF\n', after: 'off', sets: [] },
    { action: 'reboot', before: 'on', rc: 0, out: 'Success: Rebooted\n', after: 'on', sets: ['set power 0', 'set power 1'] },
    { action: 'reboot', before: 'off', rc: 0, out: 'Success: Rebooted\n', after: 'on', sets: ['set power 1'] },
    { action: 'monitor', before: 'off', rc: 0, out: '', after: 'off', sets: [] },
    { action: 'list', rc: 0, out: '', sets: [] },
    { action: 'list-status', rc: 0, out: '', sets: [] },
    { action: 'validate-all', rc: 0, out: '', sets: [] },
    { action: 'metadata', rc: 0, out: /^<\?xml version="1.0" \?>\n<resource-agent name="fence_ipmi"/, sets: [] },
    { action: 'meta-data', rc: 0, out: /<resource-agent name="fence_ipmi"/, sets: [] },
    { action: 'manpage', rc: 0, out: /^\.TH FENCE_IPMI 8/, sets: [] },
  ];

  for (const c of CASES) {
    for (const way of ['stdin', 'short', 'long'] as const) {
      test(`${c.action}${c.before ? ` (machine ${c.before})` : ''} via ${way}: rc ${c.rc}`, async () => {
        if (c.before) bmc.setPower(c.before);
        bmc.clearEvents();
        const r = await invoke(way, c.action);
        assert.equal(r.code, c.rc, `${r.stdout}${r.stderr}`);
        if (typeof c.out === 'string') assert.equal(r.stdout, c.out);
        else assert.match(r.stdout, c.out);
        if (c.after) assert.equal(bmc.power(), c.after);
        if (c.sets) assert.deepEqual(bmc.events().filter((e) => e.request.startsWith('set')).map((e) => e.request), c.sets);
        if (way === 'stdin') assert.ok(!/WARNING|ERROR/.test(r.stderr), r.stderr);
      });
    }
  }

  test('reboot: the BMC reported OFF between "off" and "on", and the machine ends ON', async () => {
    bmc.setPower('on');
    bmc.clearEvents();
    const r = await invoke('stdin', 'reboot');
    assert.equal(r.code, 0, r.stderr);
    const ev = bmc.events();
    const off = ev.findIndex((e) => e.request === 'set power 0');
    const seenOff = ev.findIndex((e, i) => i > off && e.answered === 'off');
    const on = ev.findIndex((e) => e.request === 'set power 1');
    assert.ok(off >= 0 && seenOff > off && on > seenOff, JSON.stringify(ev));
    assert.equal(ev[ev.length - 1]!.answered, 'on', 'verified on at the end');
    assert.equal(bmc.power(), 'on');
  });

  test('reboot with the default power_wait (2 s) waits after the off only; the on is polled at once', async () => {
    bmc.setPower('on');
    bmc.clearEvents();
    const t0 = Date.now();
    const r = await agent([], `ip=${bmc.address}\nipport=${bmc.port}\nusername=${USER}\npassword=${PASSWORD}\nlanplus=1\n`);
    const took = Date.now() - t0;
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'Success: Rebooted\n', 'no action on stdin means reboot');
    const ev = bmc.events();
    const off = ev.find((e) => e.request === 'set power 0');
    const on = ev.find((e) => e.request === 'set power 1');
    assert.ok(off && on, JSON.stringify(ev));
    const firstGetAfter = (t: number) => ev.find((e) => e.request === 'get power' && e.at > t);
    assert.ok(firstGetAfter(off.at)!.at - off.at >= 2000, `the off is trusted only after power_wait: ${JSON.stringify(ev)}`);
    assert.ok(firstGetAfter(on.at)!.at - on.at < 1000, `the on is polled at once: ${JSON.stringify(ev)}`);
    assert.ok(took >= 2000 && took < 4000, `${took} ms`);
  });

  test('IPMI v1.5 (lan, no lanplus) and method=cycle work too', async () => {
    bmc.setPower('off');
    const s = await agent([], `action=status\nip=${bmc.address}\nipport=${bmc.port}\nusername=${USER}\npassword=${PASSWORD}\n`);
    assert.deepEqual([s.code, s.stdout], [2, 'Status: OFF\n'], s.stderr);
    bmc.setPower('on');
    bmc.clearEvents();
    const c = await agent(['-o', 'reboot', '-m', 'cycle', '-a', bmc.address, '-u', String(bmc.port), '-l', USER, '-S', writeScript(`#!/bin/sh\necho ${PASSWORD}\n`), '-P', '--power-wait=0']);
    assert.deepEqual([c.code, c.stdout], [0, 'Success: Rebooted\n'], c.stderr);
    // ipmi_sim turns "chassis power cycle" into a power-off then power-on of its program
    assert.ok(bmc.events().some((e) => e.request.startsWith('set')), JSON.stringify(bmc.events()));
  });

  test('stdin: comments, quotes, repeated keys (last wins), old names, Pacemaker\'s extra keys', async () => {
    bmc.setPower('off');
    const r = await agent([], [
      '# written by hand',
      '',
      'ipaddr=127.0.51.250',
      `ipaddr="${bmc.address}"`,
      `ipport='${bmc.port}'`,
      'login=nobody',
      `login=${USER}`,
      `passwd="${PASSWORD}"`,
      'lanplus=yes',
      'port=n1',
      'nodename=n2',
      '   # indented comment',
      'action=status',
    ].join('\n'));
    assert.equal(r.code, 2, r.stderr);
    assert.equal(r.stdout, 'Status: OFF\n');
    assert.equal(r.stderr, '', 'nothing worth a warning');
  });

  test('password_script (and its old name), run without a shell', async () => {
    bmc.setPower('on');
    const script = writeScript(`#!/bin/sh\n[ "$1" = "node one" ] || exit 3\necho ${PASSWORD}\n`);
    for (const key of ['password_script', 'passwd_script', 'password-script']) {
      const r = await agent([], `action=status\nip=${bmc.address}\nipport=${bmc.port}\nusername=${USER}\n${key}=${script} "node one"\nlanplus=1\n`);
      assert.deepEqual([r.code, r.stdout], [0, 'Status: ON\n'], `${key}: ${r.stderr}`);
    }
    const long = await agent(['-o', 'status', `--ip=${bmc.address}`, `--ipport=${bmc.port}`, `--username=${USER}`, `--password-script=${script} 'node one'`, '--lanplus']);
    assert.equal(long.code, 0, long.stderr);
    const bad = await agent([], `action=status\nip=${bmc.address}\nipport=${bmc.port}\nusername=${USER}\npassword_script=${script} other\n`);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /password_script failed.*exited with 3/);
    const shell = await agent([], `action=status\nip=${bmc.address}\nusername=${USER}\npassword_script=cat /etc/x | tr a b\n`);
    assert.equal(shell.code, 1);
    assert.match(shell.stderr, /password_script: "\|" would need a shell/);
  });

  test('delay: off and reboot wait at least delay seconds, status does not', async () => {
    const opts = `ip=${bmc.address}\nipport=${bmc.port}\nusername=${USER}\npassword=${PASSWORD}\nlanplus=1\npower_wait=0\ndelay=2\n`;
    bmc.setPower('on');
    let t0 = Date.now();
    const off = await agent([], `action=off\n${opts}`);
    assert.equal(off.code, 0, off.stderr);
    assert.ok(Date.now() - t0 >= 2000, `off took ${Date.now() - t0} ms`);
    t0 = Date.now();
    const st = await agent([], `action=status\n${opts}`);
    assert.equal(st.code, 2);
    assert.ok(Date.now() - t0 < 1500, `status took ${Date.now() - t0} ms`);
  });

  test('verbose and debug_file: every step logged, the password nowhere, the file mode 0600', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fi-dbg-'));
    scratch.push(dir);
    const file = join(dir, 'debug.log');
    bmc.setPower('on');
    const r = await agent([], `action=reboot\nip=${bmc.address}\nipport=${bmc.port}\nusername=${USER}\npassword=${PASSWORD}\nlanplus=1\npower_wait=0\nverbose=1\ndebug_file=${file}\n`);
    assert.equal(r.code, 0, r.stderr);
    const log = readFileSync(file, 'utf8');
    assert.match(log, /DEBUG: running \/usr\/bin\/ipmitool -I lanplus .* -E -C 3 .*chassis power off \(password in IPMI_PASSWORD\)/);
    assert.match(log, /power is OFF \(verified\)/);
    assert.match(r.stderr, /DEBUG: setting power on/);
    assert.ok(!log.includes(PASSWORD) && !r.stderr.includes(PASSWORD));
    assert.equal(statSync(file).mode & 0o777, 0o600);
  });

  test('metadata from the bundle equals the golden file and validates against metadata.rng', async () => {
    const r = await agent(['-o', 'metadata']);
    assert.equal(r.stdout, readFileSync(join(ROOT, 'test/golden/fence_ipmi.xml'), 'utf8'));
    const dir = mkdtempSync(join(tmpdir(), 'fi-'));
    try {
      writeFileSync(join(dir, 'm.xml'), r.stdout);
      const v = await run('xmllint', ['--noout', '--relaxng', '/usr/share/cluster/relaxng/metadata.rng', join(dir, 'm.xml')], { timeoutMs: 10_000 });
      assert.equal(v.code, 0, v.stderr || v.spawnError);
    } finally { rmSync(dir, { recursive: true, force: true }); }
  });
});

describe('failures: rc 1 with a message that says what happened, inside the timeouts', () => {
  let bmc: IpmiSim;
  before(async () => {
    bmc = await startIpmiSim({ address: '127.0.51.2', port: 16232, users: [{ name: USER, password: PASSWORD }] });
  });
  after(() => bmc.stop());
  const TIMEOUTS = 'login_timeout=2\nshell_timeout=1\n'; // 3 s per ipmitool run
  const status = (ip: string, port: number, extra = '') =>
    agent([], `action=status\nip=${ip}\nipport=${port}\nusername=${USER}\npassword=${PASSWORD}\n${TIMEOUTS}${extra}`);
  const timed = async (p: Promise<RunResult>) => { const t0 = Date.now(); const r = await p; return { ...r, took: Date.now() - t0 }; };

  for (const lanplus of [true, false]) {
    const v = lanplus ? 'lanplus=1\n' : '';
    test(`wrong password (${lanplus ? 'lanplus' : 'lan'})`, async () => {
      const r = await timed(agent([], `action=status\nip=${bmc.address}\nipport=${bmc.port}\nusername=${USER}\npassword=not-it\n${TIMEOUTS}${v}`));
      assert.equal(r.code, 1);
      assert.match(r.stderr, /ERROR: Failed: BMC 127\.0\.51\.2:16232 refused the login: wrong password/);
      assert.ok(r.took < 3000, `${r.took} ms`);
      assert.ok(!r.stderr.includes('not-it'));
    });
    test(`wrong user (${lanplus ? 'lanplus' : 'lan'})`, async () => {
      const r = await timed(agent([], `action=status\nip=${bmc.address}\nipport=${bmc.port}\nusername=intruder\npassword=${PASSWORD}\n${TIMEOUTS}${v}`));
      assert.equal(r.code, 1);
      assert.match(r.stderr, /refused the login: unknown user name/);
      assert.ok(r.took < 3000, `${r.took} ms`);
    });
  }

  test('cipher suite the BMC does not support', async () => {
    const r = await status(bmc.address, bmc.port, 'lanplus=1\ncipher=17\n');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /refused the cipher suite/);
  });

  test('silent BMC: nothing listening on the port (ICMP port unreachable)', async () => {
    const r = await timed(status('127.0.51.3', 16233, 'lanplus=1\n'));
    assert.equal(r.code, 1);
    assert.match(r.stderr, /no answer from BMC 127\.0\.51\.3:16233 .*nothing listens on UDP port 16233/);
    assert.ok(r.took < 3000 + 1500, `${r.took} ms`);
  });

  test('silent BMC: a socket that swallows every packet', async () => {
    const sink = await udpServer('127.0.51.4', 16234, () => undefined);
    try {
      const r = await timed(status('127.0.51.4', 16234, 'lanplus=1\n'));
      assert.equal(r.code, 1);
      assert.match(r.stderr, /no answer from BMC 127\.0\.51\.4:16234 (within|\(ipmitool gave up)/);
      assert.ok(!/nothing listens|garbage/.test(r.stderr));
      assert.ok(r.took < 3000 + 1500, `${r.took} ms`);
    } finally { sink.close(); }
  });

  test('garbage: a server that echoes every packet back', async () => {
    const echo = await udpServer('127.0.51.5', 16235, (m) => m);
    try {
      const r = await timed(status('127.0.51.5', 16235, 'lanplus=1\n'));
      assert.equal(r.code, 1);
      assert.match(r.stderr, /answered with garbage: not a valid IPMI response/);
      assert.ok(r.took < 3000, `${r.took} ms`);
    } finally { echo.close(); }
  });

  test('garbage: a server that answers with text', async () => {
    const http = await udpServer('127.0.51.6', 16236, () => Buffer.from('HTTP/1.1 400 Bad Request\r\n\r\n'));
    try {
      const r = await timed(status('127.0.51.6', 16236));
      assert.equal(r.code, 1);
      assert.match(r.stderr, /answered with garbage: not RMCP\/IPMI/);
      assert.ok(r.took < 3000 + 1500, `${r.took} ms`);
    } finally { http.close(); }
  });

  test('ipmitool missing', async () => {
    const r = await status(bmc.address, bmc.port, 'ipmitool_path=/nonexistent/ipmitool\n');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /ipmitool not found or not executable at \/nonexistent\/ipmitool/);
  });

  test('missing address and bad values fail before contacting anything', async () => {
    const r = await agent([], 'action=reboot\nusername=x\npassword=y\nipport=high\n');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /You have to enter fence address/);
    assert.match(r.stderr, /--ipport \(ipport\): value "high" is not an integer/);
    assert.ok(!r.stderr.includes('ERROR: Failed: y'));
  });
});

describe('a slow BMC, and the password in no process\'s command line', () => {
  let slow: IpmiSim;
  before(async () => {
    // ipmi_sim is single-threaded: a power program that takes 6 s stalls the whole BMC after login.
    slow = await startIpmiSim({ address: '127.0.51.7', port: 16237, getDelayMs: 6000, users: [{ name: USER, password: PASSWORD }] });
  });
  after(() => slow.stop());

  test('status on a BMC that logs in but answers slowly: rc 1 within login_timeout + shell_timeout', async () => {
    const scan = scanCmdlines(PASSWORD);
    const t0 = Date.now();
    const r = await agent([], `action=status\nip=${slow.address}\nipport=${slow.port}\nusername=${USER}\npassword=${PASSWORD}\nlanplus=1\nlogin_timeout=2\nshell_timeout=1\n`);
    const took = Date.now() - t0;
    const seen = await scan.stop();
    assert.equal(r.code, 1, r.stdout);
    assert.match(r.stderr, /BMC 127\.0\.51\.7:16237 accepted the session but did not answer "chassis power status"/);
    assert.ok(took < 3000 + 500, `${took} ms`);
    assert.deepEqual(seen.leaks, [], 'password found in these command lines');
    assert.ok(seen.ipmitoolSeen > 0, 'the scan ran while ipmitool was running (it must have seen it)');
    assert.ok(seen.scans > 10);
  });

  test('reboot that cannot be verified fails and never claims success', async () => {
    const r = await agent([], `action=off\nip=${slow.address}\nipport=${slow.port}\nusername=${USER}\npassword=${PASSWORD}\nlanplus=1\nlogin_timeout=1\nshell_timeout=1\n`);
    assert.equal(r.code, 1);
    assert.ok(!r.stdout.includes('Success'));
  });
});

describe('Pacemaker sees the agent', () => {
  test('stonith_admin --metadata --agent fence_ipmi (bundle overlaid on /usr/sbin in a private mount namespace)', async () => {
    const r = await stonithAdminMetadata(AGENT);
    assert.equal(r.code, 0, `needs root and pacemaker-cli-utils: ${r.stderr}${r.spawnError ?? ''}`);
    assert.match(r.stdout, /<resource-agent name="fence_ipmi"/);
    assert.match(r.stdout, /<parameter name="port"/);
    assert.match(r.stdout, /<action name="reboot"/);
  });

  test('start-up: metadata under env -i is quick', async () => {
    const times: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t0 = process.hrtime.bigint();
      const r = await agent(['-o', 'metadata']);
      times.push(Number(process.hrtime.bigint() - t0) / 1e6);
      assert.equal(r.code, 0);
    }
    times.sort((a, b) => a - b);
    assert.ok(times[2]! < 300, `median ${times[2]} ms`);
  });
});

// helpers

function writeScript(body: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'fi-pw-'));
  scratch.push(dir);
  const f = join(dir, 'get-password');
  writeFileSync(f, body);
  chmodSync(f, 0o700);
  return f;
}

function udpServer(address: string, port: number, reply: (m: Buffer) => Buffer | undefined): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = createSocket('udp4');
    s.on('message', (m, from) => { const out = reply(m); if (out) s.send(out, from.port, from.address); });
    s.once('error', reject);
    s.bind(port, address, () => resolve(s));
  });
}

/** Read every process's command line every few ms until stopped; report any that contain `secret`. */
function scanCmdlines(secret: string) {
  const leaks: string[] = [];
  let ipmitoolSeen = 0;
  let scans = 0;
  let stopping = false;
  const loop = (async () => {
    while (!stopping) {
      scans++;
      for (const pid of readdirSync('/proc')) {
        if (!/^\d+$/.test(pid) || pid === String(process.pid)) continue;
        let cmd: string;
        try { cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' '); } catch { continue; }
        if (cmd.includes(secret)) leaks.push(`${pid}: ${cmd}`);
        if (/ipmitool .*chassis power/.test(cmd)) ipmitoolSeen++;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  return { stop: async () => { stopping = true; await loop; return { leaks, ipmitoolSeen, scans }; } };
}
