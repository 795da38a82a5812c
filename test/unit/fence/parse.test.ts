import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseArgv, parseStdin, typeOptions, missingRequired, unquote } from '../../../lib/fence/parse.ts';
import { getoptText, longName, tableProblems, type OptionSpec } from '../../../lib/fence/options.ts';
import { ipmiOptions } from '../../../fence/ipmi/options.ts';

const T = ipmiOptions;
const typed = (raw: ReturnType<typeof parseArgv>) => typeOptions(T, raw);

test('the fence_ipmi table is consistent: unique short letters, long names and aliases', () => {
  assert.deepEqual(tableProblems(T), []);
  assert.throws(() => { (T as Record<string, unknown>).ip = {}; }, TypeError, 'tables are frozen');
});

test('fence_ipmilan option names and short letters are kept', () => {
  const expect: Record<string, string> = {
    action: '-o, --action=[action]', ip: '-a, --ip=[ip]', ipport: '-u, --ipport=[port]', username: '-l, --username=[name]',
    password: '-p, --password=[password]', password_script: '-S, --password-script=[script]', lanplus: '-P, --lanplus',
    cipher: '-C, --cipher=[cipher]', privlvl: '-L, --privlvl=[level]', auth: '-A, --auth=[auth]',
    hexadecimal_kg: '--hexadecimal-kg=[key]', method: '-m, --method=[method]', plug: '-n, --plug=[ip]',
    ipmitool_path: '--ipmitool-path=[path]', ipmitool_timeout: '--ipmitool-timeout=[timeout]', target: '--target=[targetaddress]',
    verbose: '-v, --verbose', debug_file: '-D, --debug-file=[debugfile]', delay: '--delay=[seconds]',
    power_timeout: '--power-timeout=[seconds]', power_wait: '--power-wait=[seconds]', login_timeout: '--login-timeout=[seconds]',
    shell_timeout: '--shell-timeout=[seconds]', retry_on: '--retry-on=[attempts]', port_as_ip: '--port-as-ip',
  };
  for (const [k, g] of Object.entries(expect)) assert.equal(getoptText(k, T[k as keyof typeof T] as OptionSpec), g, k);
  const aliases = Object.fromEntries(Object.entries(T as Record<string, OptionSpec>).filter(([, s]) => s.aliases).map(([k, s]) => [k, s.aliases]));
  assert.deepEqual(aliases, {
    ip: ['ipaddr'], username: ['login'], password: ['passwd'], password_script: ['passwd_script'], plug: ['port'], debug_file: ['debug'],
  });
});

test('argv: short, long with =, and long with a separate value give the same options', () => {
  const forms = [
    ['-o', 'reboot', '-a', '192.0.2.7', '-u', '6230', '-l', 'admin', '-P', '-C', '17', '--delay', '3'],
    ['--action=reboot', '--ip=192.0.2.7', '--ipport=6230', '--username=admin', '--lanplus', '--cipher=17', '--delay=3'],
    ['--action', 'reboot', '--ip', '192.0.2.7', '--ipport', '6230', '--username', 'admin', '--lanplus', '--cipher', '17', '--delay', '3'],
    ['-oreboot', '-a192.0.2.7', '-u6230', '-ladmin', '-PC17', '--delay=3'],
  ];
  const results = forms.map((f) => {
    const raw = parseArgv(T, f);
    assert.deepEqual(raw.errors, [], f.join(' '));
    return typed(raw);
  });
  for (const r of results) {
    assert.deepEqual(r.problems, []);
    assert.equal(r.values.action, 'reboot');
    assert.equal(r.values.ip, '192.0.2.7');
    assert.equal(r.values.ipport, 6230);
    assert.equal(r.values.username, 'admin');
    assert.equal(r.values.lanplus, true);
    assert.equal(r.values.cipher, '17');
    assert.equal(r.values.delay, 3);
    assert.equal(r.values.power_timeout, 20, 'default');
    assert.equal(r.values.power_wait, 2, 'fence_ipmilan default');
  }
});

test('argv: -vvv counts, unambiguous prefixes, "-" and "_" in long names, "--" ends options', () => {
  const raw = parseArgv(T, ['-vvv', '--act=status', '--power_timeout=5', '--', '-o', 'x']);
  assert.deepEqual(raw.errors, []);
  assert.equal(raw.counts.get('verbose'), 3);
  assert.equal(raw.values.get('action'), 'status');
  assert.equal(raw.values.get('power_timeout'), '5');
  assert.deepEqual(raw.positional, ['-o', 'x']);
});

test('argv: usage errors are reported, never guessed', () => {
  const cases: Array<[string[], RegExp]> = [
    [['--bogus'], /unknown option --bogus/],
    [['-Z'], /unknown option -Z/],
    [['--pass=x'], /ambiguous.*--password.*--password-script/],
    [['--ip'], /--ip requires a value/],
    [['-a'], /-a requires a value/],
    [['--lanplus=1'], /does not take a value/],
  ];
  for (const [argv, re] of cases) {
    const raw = parseArgv(T, argv);
    assert.equal(raw.errors.length, 1, argv.join(' '));
    assert.match(raw.errors[0]!, re);
  }
});

test('stdin: comments, blanks, quotes, last value wins, old names, - and _', () => {
  const raw = parseStdin(T, [
    '# fence device for n1',
    '',
    '   ipaddr = 192.0.2.1  ',
    'ip="192.0.2.9"',
    "login='admin'",
    'passwd="with # hash and = sign"',
    'passwd-script=/bin/true',
    'lanplus=on',
    'power-timeout=7',
    'port=n1',
    'action=off',
    'debug=/tmp/x.log',
    '\t# indented comment',
  ].join('\n'));
  assert.deepEqual(raw.warnings, []);
  const t = typeOptions(T, raw);
  assert.deepEqual(t.problems, []);
  assert.equal(t.values.ip, '192.0.2.9', 'the later line wins, whichever name it used');
  assert.equal(t.values.username, 'admin');
  assert.equal(t.values.password, 'with # hash and = sign');
  assert.equal(t.values.password_script, '/bin/true');
  assert.equal(t.values.lanplus, true);
  assert.equal(t.values.power_timeout, 7);
  assert.equal(t.values.plug, 'n1');
  assert.equal(t.values.action, 'off');
  assert.equal(t.values.debug_file, '/tmp/x.log');
});

test('stdin: unknown keys are warned about without their value; Pacemaker keys only noted', () => {
  const raw = parseStdin(T, 'secret_thing=hunter2\nnodename=n2\npcmk_host_list=n1\nip=192.0.2.1\n');
  assert.equal(raw.warnings.length, 1);
  assert.match(raw.warnings[0]!, /unknown option "secret_thing"/);
  assert.ok(!raw.warnings.join().includes('hunter2'));
  assert.equal(raw.notes.length, 2);
  assert.equal(raw.values.get('ip'), '192.0.2.1');
});

test('stdin: booleans take 1/yes/on/true and 0/no/off/false; anything else is ignored with a warning', () => {
  for (const v of ['1', 'yes', 'on', 'true', 'TRUE', '"1"']) assert.equal(parseStdin(T, `lanplus=${v}`).values.get('lanplus'), true, v);
  for (const v of ['0', 'no', 'off', 'false']) assert.equal(parseStdin(T, `lanplus=${v}`).values.get('lanplus'), false, v);
  const bad = parseStdin(T, 'lanplus=maybe');
  assert.equal(bad.values.has('lanplus'), false);
  assert.equal(bad.warnings.length, 1);
});

test('types: integers, seconds, choices (case-insensitive like fence-agents), secrets never echoed', () => {
  const t = typeOptions(T, parseStdin(T, 'ipport=x\npower_wait=1.5\nprivlvl=OPERATOR\nauth=MD5\nretry_on=-1\nhexadecimal_kg=zz\nmethod=Cycle'));
  assert.equal(t.values.power_wait, 1.5);
  assert.equal(t.values.privlvl, 'operator');
  assert.equal(t.values.auth, 'md5');
  assert.equal(t.values.method, 'cycle');
  assert.equal(t.problems.length, 3, t.problems.join('\n'));
  const find = (re: RegExp) => t.problems.find((p) => re.test(p));
  assert.ok(find(/--ipport \(ipport\): value "x" is not an integer/));
  assert.ok(find(/retry_on.*below the minimum 0/));
  const kg = find(/hexadecimal_kg/);
  assert.ok(kg && !kg.includes('zz'), 'a secret value is not quoted');
  assert.deepEqual(missingRequired(T, t.given), []);
});

test('unquote strips one matching pair only', () => {
  assert.equal(unquote('"a"'), 'a');
  assert.equal(unquote("'a'"), 'a');
  assert.equal(unquote('"a\''), '"a\'');
  assert.equal(unquote('""x""'), '"x"');
  assert.equal(unquote('"'), '"');
});

// The three ways an operator can give options must be interchangeable.
const valueArb = fc.stringMatching(/^[A-Za-z0-9./:@+-]{1,20}$/).filter((s) => !s.startsWith('-'));
const optionArb = fc.dictionary(
  fc.constantFrom('ip', 'username', 'password', 'ipport', 'power_timeout', 'lanplus', 'cipher', 'privlvl', 'method', 'delay', 'plug', 'target'),
  fc.tuple(valueArb, fc.integer({ min: 1, max: 65535 }), fc.boolean()),
);

test('property: stdin, short options and long options produce identical typed values', () => {
  fc.assert(fc.property(optionArb, (chosen) => {
    const entries = Object.entries(chosen).map(([k, [s, n, b]]) => {
      const spec = T[k as keyof typeof T] as OptionSpec;
      const v = spec.type === 'boolean' ? b : spec.type === 'integer' || spec.type === 'second' ? String(n)
        : spec.type === 'select' ? spec.choices[n % spec.choices.length]! : s;
      return [k, spec, v] as const;
    });
    const stdin = entries.map(([k, spec, v]) => `${spec.aliases?.[0] ?? k}=${v === true ? 'yes' : v === false ? 'no' : `"${v}"`}`).join('\n');
    const long: string[] = [];
    const short: string[] = [];
    for (const [k, spec, v] of entries) {
      if (typeof v === 'boolean') {
        if (v) { long.push(`--${longName(k, spec)}`); short.push(spec.short ? `-${spec.short}` : `--${longName(k, spec)}`); }
        continue;
      }
      long.push(`--${longName(k, spec)}=${v}`);
      if (spec.short) short.push(`-${spec.short}`, v); else short.push(`--${longName(k, spec)}`, v);
    }
    const fromStdin = typeOptions(T, parseStdin(T, stdin));
    const fromLong = typeOptions(T, parseArgv(T, ['-o', 'status', ...long]));
    const fromShort = typeOptions(T, parseArgv(T, ['--action', 'status', ...short]));
    const strip = (v: Record<string, unknown>) => {
      const c = { ...v }; delete c.action;
      // A false flag cannot be written on a command line; it is the default there.
      for (const [k, spec, val] of entries) if (spec.type === 'boolean' && val === false) delete c[k];
      return c;
    };
    assert.deepEqual(strip(fromLong.values), strip(fromStdin.values));
    assert.deepEqual(strip(fromShort.values), strip(fromStdin.values));
    assert.deepEqual(fromLong.problems, fromStdin.problems);
  }), { numRuns: 300 });
});
