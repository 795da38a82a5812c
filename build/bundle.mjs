// Bundle every agent into one self-contained executable, laid out like the installed tree:
//   dist/resource.d/vigil/<agent>   (installed to /usr/lib/ocf/resource.d/vigil/)
//   dist/sbin/fence_<agent>         (installed to /usr/sbin/)
// Node 18.19 is the oldest runtime we support (enterprise distributions still ship it).
import { build } from 'esbuild';
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { isBuiltin } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { mysqlBundleStubs } from '../lib/mysql/bundle-stubs.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
export const ENTRIES = [
  { src: 'agents/vip/main.ts', out: 'dist/resource.d/vigil/vip' },
  { src: 'agents/mysql/main.ts', out: 'dist/resource.d/vigil/mysql', plugins: [mysqlBundleStubs] },
  { src: 'fence/ipmi/main.ts', out: 'dist/sbin/fence_ipmi' },
  { src: 'fence/ssh/main.ts', out: 'dist/sbin/fence_ssh' },
];

// The bundles are CommonJS without a .js extension; inside this repository the root package.json
// says "type": "module", which would make Node load them as ES modules. Installed copies have no
// package.json above them; this one keeps dist/ behaving the same.
mkdirSync(join(root, 'dist'), { recursive: true });
writeFileSync(join(root, 'dist', 'package.json'), '{ "type": "commonjs" }\n');

const only = process.argv.slice(2);
for (const e of ENTRIES) {
  if (!existsSync(join(root, e.src))) continue;
  if (only.length && !only.some((o) => e.out.endsWith(o))) continue;
  const outfile = join(root, e.out);
  mkdirSync(dirname(outfile), { recursive: true });
  const result = await build({
    entryPoints: [join(root, e.src)],
    write: false,
    bundle: true,
    platform: 'node',
    target: 'node18.19',
    format: 'cjs',
    minifySyntax: true,
    legalComments: 'none',
    // Optional native accelerators of ssh2 and mysql2; both fall back to pure JS.
    external: ['cpu-features', './crypto/build/Release/sshcrypto.node', 'pg-native'],
    logLevel: 'warning',
    plugins: e.plugins ?? [],
  });
  // The loader runs the bundle through vm.Script, which has no loader for dynamic import():
  // esbuild already turns import() of bundled modules into require(); do the same for Node's own
  // modules, and refuse anything else rather than ship a bundle that fails at run time.
  const code = result.outputFiles[0].text.replace(/\bimport\((["'])((?:node:)?[a-z_/]+)\1\)/g, (m, q, spec) =>
    (isBuiltin(spec) ? `Promise.resolve().then(() => { const m = require(${q}${spec}${q}); return { ...m, default: m }; })` : m));
  const left = /\bimport\((["'])[^"']+\1\)/.exec(code);
  if (left) throw new Error(`${e.out}: dynamic ${left[0]} cannot run inside the loader; import it statically or bundle it`);
  // One file: the loader (build/loader.cjs, which keeps V8's code cache) with the bundle inside it.
  const name = e.out.split('/').pop();
  const hash = createHash('sha256').update(code).digest('hex').slice(0, 16);
  const loader = readFileSync(join(root, 'build/loader.cjs'), 'utf8')
    .replace('__VIGIL_CODE__', () => JSON.stringify(code))
    .replace('__VIGIL_NAME__', () => JSON.stringify(name))
    .replace('__VIGIL_HASH__', () => JSON.stringify(hash));
  writeFileSync(outfile, `#!/usr/bin/env node\n${loader}`);
  chmodSync(outfile, 0o755);
  console.log(`built ${e.out} (${statSync(outfile).size} bytes)`);
}
