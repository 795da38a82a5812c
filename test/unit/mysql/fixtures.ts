// Recorded (MariaDB) and reference-manual (MySQL 8.0, 8.4) server answers, shared by the tests.
import { readFileSync } from 'node:fs';
import type { Row } from '../../../lib/mysql/status.ts';

export interface Fixture {
  source: string;
  version: { version: string; comment: string };
  unconfigured: Row[];
  statePrimary: Row;
  stateReplica: Row;
  replicaOk: Row[];
  sqlStoppedPending: Row[];
  sqlError: Row[];
  ioConnecting: Row[];
  ioFatal?: Row[];
  replicaLagging?: Row[];
}

const load = (f: string): Fixture => JSON.parse(readFileSync(new URL(`../../../lib/mysql/fixtures/${f}`, import.meta.url), 'utf8')) as Fixture;
export const FIXTURES = { mariadb: load('mariadb-10.11.json'), mysql80: load('mysql-8.0.json'), mysql84: load('mysql-8.4.json') } as const;
