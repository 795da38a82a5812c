import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fenceMetadataXml } from '../../../lib/fence/metadata.ts';
import { helpText, manPage, troff } from '../../../lib/fence/docs.ts';
import { describeFenceAgent, advertisedActions } from '../../../lib/fence/agent.ts';
import { getoptText, type OptionSpec } from '../../../lib/fence/options.ts';
import { fenceIpmi, VERSION } from '../../../fence/ipmi/agent.ts';

const GOLDEN = fileURLToPath(new URL('../../golden/fence_ipmi.xml', import.meta.url));
const RNG = '/usr/share/cluster/relaxng/metadata.rng';
const xml = fenceMetadataXml(describeFenceAgent(fenceIpmi));

test('metadata matches the golden file (UPDATE_GOLDEN=1 rewrites it; review the diff)', () => {
  if (process.env.UPDATE_GOLDEN === '1') writeFileSync(GOLDEN, xml);
  assert.ok(existsSync(GOLDEN), `missing ${GOLDEN}`);
  assert.equal(xml, readFileSync(GOLDEN, 'utf8'));
});

test('metadata validates against fence-agents\' metadata.rng', () => {
  assert.ok(existsSync(RNG), `${RNG} is missing: install Debian's fence-agents package`);
  const dir = mkdtempSync(join(tmpdir(), 'fi-meta-'));
  try {
    const f = join(dir, 'fence_ipmi.xml');
    writeFileSync(f, xml);
    const r = spawnSync('xmllint', ['--noout', '--relaxng', RNG, f], { encoding: 'utf8' });
    assert.equal(r.error, undefined, 'xmllint must be installed (libxml2-utils)');
    assert.equal(r.status, 0, r.stderr);
    // and the validator does reject a broken document, so a pass means something
    writeFileSync(f, xml.replace('<vendor-url>', '<vendor>').replace('</vendor-url>', '</vendor>'));
    assert.notEqual(spawnSync('xmllint', ['--noout', '--relaxng', RNG, f]).status, 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('what Pacemaker reads: actions, port/plug, unfencing off, no list for a one-machine device', () => {
  const actions = [...xml.matchAll(/<action name="([^"]+)"/g)].map((m) => m[1]);
  for (const a of ['on', 'off', 'reboot', 'status', 'monitor', 'metadata', 'validate-all']) assert.ok(actions.includes(a), a);
  // With "list" advertised Pacemaker's default host check would be dynamic-list, and an empty
  // list would mean this device can fence no node at all.
  assert.ok(!actions.includes('list'));
  assert.deepEqual(advertisedActions({ listable: true }).filter((a) => a.startsWith('list')), ['list', 'list-status']);
  assert.match(xml, /<action name="on" automatic="0"\/>/);
  assert.match(xml, /<parameter name="plug" unique="0" required="0" obsoletes="port">/);
  assert.match(xml, /<parameter name="port" unique="0" required="0" deprecated="1">/);
});

test('every fence_ipmilan parameter exists here with the same name', () => {
  const ours = new Set([...xml.matchAll(/<parameter name="([^"]+)"/g)].map((m) => m[1]));
  const ipmilan = ['action', 'auth', 'cipher', 'hexadecimal_kg', 'ip', 'ipaddr', 'ipport', 'lanplus', 'login', 'method', 'passwd',
    'passwd_script', 'password', 'password_script', 'plug', 'port', 'privlvl', 'target', 'username', 'quiet', 'verbose',
    'verbose_level', 'debug', 'debug_file', 'version', 'help', 'delay', 'disable_timeout', 'ipmitool_path', 'login_timeout',
    'port_as_ip', 'power_timeout', 'power_wait', 'shell_timeout', 'stonith_status_sleep', 'ipmitool_timeout', 'retry_on'];
  // Not carried over: sudo/use_sudo/sudo_path (run ipmitool as the cluster user), plug_separator (one machine per BMC).
  for (const p of ipmilan) assert.ok(ours.has(p), p);
});

test('--help lists every option with its getopt form', () => {
  const help = helpText(describeFenceAgent(fenceIpmi));
  for (const [k, spec] of Object.entries(fenceIpmi.options)) assert.ok(help.includes(getoptText(k, spec as OptionSpec)), k);
  assert.match(help, /ipaddr = ip/);
});

test('man page: troff with every option, stdin names and exit status', () => {
  const man = manPage(describeFenceAgent(fenceIpmi), VERSION, { notes: fenceIpmi.notes, examples: fenceIpmi.examples });
  assert.match(man, /^\.TH FENCE_IPMI 8 /);
  for (const k of Object.keys(fenceIpmi.options)) assert.ok(man.includes(`\\fB${troff(k)}\\fR`), k);
  assert.match(man, /\.SH "EXIT STATUS"/);
  assert.ok(!/^\.(?!TH|SH|TP|PP|nf|fi|B )/m.test(man), 'no text line may start with a dot');
  const r = spawnSync('groff', ['-man', '-Tutf8', '-ww', '-z'], { input: man, encoding: 'utf8' });
  if (!r.error) assert.equal(r.stderr, '', 'groff warnings');
});

test('troff escapes leading dots and dashes', () => {
  assert.equal(troff('.x -y'), '\\&.x \\-y');
  assert.equal(troff('a\\b'), 'a\\eb');
});
