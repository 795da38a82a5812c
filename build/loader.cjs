// Start-up loader wrapped around every bundle. Agents run once per cluster operation, so compile
// time is paid on every monitor. Node 20 has no built-in compile cache, so we keep V8's code cache
// ourselves: the first run compiles and saves the cache, later runs skip most of the compilation.
//
// The cache holds bytecode that runs as root, so it is only read from and written to a directory
// owned by the current user that nobody else can write (/var/cache/vigil for root). Anything else
// (wrong owner, loose mode, unreadable, rejected by V8) silently falls back to a normal compile.
'use strict';
(function vigilLoader() {
  const fs = require('fs');
  const vm = require('vm');
  const uid = typeof process.getuid === 'function' ? process.getuid() : -1;
  const safeDir = (d) => {
    try {
      const st = fs.statSync(d);
      return st.isDirectory() && st.uid === uid && (st.mode & 0o022) === 0;
    } catch { return false; }
  };
  let dir = process.env.VIGIL_CACHE_DIR;
  if (!dir) {
    if (uid === 0) dir = '/var/cache/vigil';
    else if (process.env.HOME) dir = `${process.env.XDG_CACHE_HOME || `${process.env.HOME}/.cache`}/vigil`;
  }
  if (dir && process.env.VIGIL_CACHE_DIR !== 'off' && !fs.existsSync(dir)) {
    try { fs.mkdirSync(dir, { recursive: true, mode: 0o700 }); } catch { /* read-only system: no cache */ }
  }
  const usable = dir && process.env.VIGIL_CACHE_DIR !== 'off' && safeDir(dir);
  // V8 caches what a run compiled, so a cache made by meta-data would lack everything a monitor
  // loads (mysql2, ssh2): documentation actions keep a cache of their own.
  const doc = process.argv.slice(2).some((a) => /^(-o|--action=)?(meta-?data|manpage|usage|help|--help|-h)$/.test(a));
  const file = usable ? `${dir}/${__VIGIL_NAME__}-${__VIGIL_HASH__}-${doc ? 'doc' : 'run'}-${process.version}-${process.arch}.cache` : undefined;
  let cachedData;
  if (file) {
    try {
      const st = fs.statSync(file);
      if (st.uid === uid && (st.mode & 0o022) === 0) cachedData = fs.readFileSync(file);
    } catch { /* first run */ }
  }
  const script = new vm.Script(`(function (exports, require, module, __filename, __dirname) {${__VIGIL_CODE__}\n})`,
    { filename: __filename, cachedData });
  if (file && (cachedData === undefined || script.cachedDataRejected)) {
    // Save after the run, so functions compiled lazily during the action are in the cache too.
    process.once('exit', () => {
      try {
        const tmp = `${file}.${process.pid}.tmp`;
        fs.writeFileSync(tmp, script.createCachedData(), { mode: 0o600 });
        fs.renameSync(tmp, file);
      } catch { /* no cache this time */ }
    });
  }
  script.runInThisContext()(module.exports, require, module, __filename, __dirname);
})();
