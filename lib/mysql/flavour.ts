// Which server we talk to. MariaDB and MySQL diverged in replication syntax (MariaDB keeps
// MASTER/SLAVE and its own GTIDs; MySQL 8.0.23+ speaks SOURCE/REPLICA and 8.4 removed the old
// words), so every statement lives in one module per flavour and the rest of the agent asks the
// flavour, never the version string.
import { mariadbSql } from './sql/mariadb.ts';
import { mysql80Sql } from './sql/mysql80.ts';
import { mysql84Sql } from './sql/mysql84.ts';
import type { FlavourSql } from './sql/types.ts';

export type FlavourName = 'mariadb' | 'mysql80' | 'mysql84';

export interface ServerVersion {
  flavour: FlavourName;
  major: number;
  minor: number;
  patch: number;
  /** As the server reports it (@@version). */
  text: string;
}

/** Oldest releases whose replication statements we generate. */
export const MINIMUM = { mariadb: [10, 6, 0], mysql: [8, 0, 23] } as const;

const cmp = (a: readonly number[], b: readonly number[]): number => {
  for (let i = 0; i < 3; i++) if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) - (b[i] ?? 0);
  return 0;
};

/**
 * Classify a server from @@version and @@version_comment (or from `mysqld --version` output).
 * Returns a reason string for servers we cannot drive.
 */
export function detectFlavour(version: string, comment = ''): ServerVersion | string {
  // MariaDB once sent "5.5.5-" before its real version to old clients; skip it.
  const m = /(\d+)\.(\d+)\.(\d+)/.exec(version.replace(/^5\.5\.5-/, ''));
  if (!m) return `cannot read a version number from "${version}"`;
  const v = [Number(m[1]), Number(m[2]), Number(m[3])] as const;
  const isMaria = /mariadb/i.test(version) || /mariadb/i.test(comment);
  const text = version.trim();
  if (isMaria) {
    if (cmp(v, MINIMUM.mariadb) < 0) return `MariaDB ${v.join('.')} is too old: 10.6 or newer is needed (GTID replication as this agent uses it)`;
    return { flavour: 'mariadb', major: v[0], minor: v[1], patch: v[2], text };
  }
  if (cmp(v, MINIMUM.mysql) < 0) return `MySQL ${v.join('.')} is too old: 8.0.23 or newer is needed (CHANGE REPLICATION SOURCE TO)`;
  const flavour: FlavourName = cmp(v, [8, 4, 0]) >= 0 ? 'mysql84' : 'mysql80';
  return { flavour, major: v[0], minor: v[1], patch: v[2], text };
}

/** `mariadbd --version` / `mysqld --version` output, before any server runs. */
export function flavourFromBinaryVersion(output: string): ServerVersion | string {
  const line = output.split('\n').find((l) => /Ver\s/.test(l)) ?? output;
  const m = /Ver\s+(\S+)/.exec(line);
  return detectFlavour(m?.[1] ?? line, line);
}

export function sqlFor(flavour: FlavourName): FlavourSql {
  switch (flavour) {
    case 'mariadb': return mariadbSql;
    case 'mysql80': return mysql80Sql;
    case 'mysql84': return mysql84Sql;
  }
}
