// MySQL 8.4 LTS and later: the MASTER/SLAVE statements are gone (SHOW MASTER STATUS became
// SHOW BINARY LOG STATUS); otherwise the 8.0 SOURCE/REPLICA statements apply unchanged.
import type { FlavourSql } from './types.ts';
import { mysql80Sql } from './mysql80.ts';

export const mysql84Sql: FlavourSql = {
  ...mysql80Sql,
  name: 'mysql84',
  binlogStatus: 'SHOW BINARY LOG STATUS',
};
