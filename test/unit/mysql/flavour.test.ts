import { test } from 'node:test';
import assert from 'node:assert/strict';
import { detectFlavour, flavourFromBinaryVersion, sqlFor, type FlavourName } from '../../../lib/mysql/flavour.ts';
import { FIXTURES } from './fixtures.ts';

const table: Array<[string, string, FlavourName | RegExp]> = [
  ['10.11.19-MariaDB-0+deb12u1-log', 'Debian 12', 'mariadb'],
  ['10.6.0-MariaDB', '', 'mariadb'],
  ['11.4.2-MariaDB', 'mariadb.org binary distribution', 'mariadb'],
  ['5.5.5-10.11.6-MariaDB', '', 'mariadb'],
  ['10.5.23-MariaDB', '', /too old: 10\.6 or newer/],
  ['8.0.23', 'MySQL Community Server - GPL', 'mysql80'],
  ['8.0.36', 'MySQL Community Server - GPL', 'mysql80'],
  ['8.0.39-log', 'Source distribution', 'mysql80'],
  ['8.3.0', 'MySQL Community Server - GPL', 'mysql80'],
  ['8.4.0', 'MySQL Community Server - GPL', 'mysql84'],
  ['8.4.3-commercial', 'MySQL Enterprise Server', 'mysql84'],
  ['9.1.0', 'MySQL Community Server - GPL', 'mysql84'],
  ['8.0.22', 'MySQL Community Server - GPL', /too old: 8\.0\.23/],
  ['5.7.44-log', 'MySQL Community Server (GPL)', /too old/],
  ['garbage', '', /cannot read a version/],
];

for (const [version, comment, want] of table) {
  test(`detectFlavour(${version}, ${comment || '-'})`, () => {
    const v = detectFlavour(version, comment);
    if (want instanceof RegExp) assert.match(v as string, want);
    else assert.equal(typeof v === 'string' ? v : v.flavour, want);
  });
}

test('the fixtures classify as their flavour', () => {
  for (const [name, f] of Object.entries(FIXTURES)) {
    const v = detectFlavour(f.version.version, f.version.comment);
    assert.notEqual(typeof v, 'string');
    assert.equal((v as { flavour: string }).flavour, name);
  }
});

test('flavour from the binary\'s --version output, before any server runs', () => {
  const m = flavourFromBinaryVersion('/usr/sbin/mariadbd  Ver 10.11.19-MariaDB-0+deb12u1 for debian-linux-gnu on x86_64 (Debian 12)\n');
  assert.equal(typeof m === 'string' ? m : m.flavour, 'mariadb');
  const a = flavourFromBinaryVersion('/usr/sbin/mysqld  Ver 8.0.36 for Linux on x86_64 (MySQL Community Server - GPL)');
  assert.equal(typeof a === 'string' ? a : a.flavour, 'mysql80');
  const b = flavourFromBinaryVersion('/usr/sbin/mysqld  Ver 8.4.3 for Linux on x86_64 (MySQL Community Server - GPL)');
  assert.equal(typeof b === 'string' ? b : b.flavour, 'mysql84');
  assert.equal(sqlFor('mysql84').name, 'mysql84');
});
