// The npm bundles:
//   dist/tread.js          ESM, Node (and Deno/Bun): Node built-ins are imported dynamically, in Node only
//   dist/tread.browser.js  ESM, browsers and bundlers (the "browser" export condition): no `node:` module
//                          anywhere, so esbuild, Vite, webpack and Rollup bundle it without shims
//   dist/cli.js            the `tread` command
//   dist/trial-worker.js   the worker of Study.optimizeParallel (Node)
// The .wasm files are built into dist/wasm/ by scripts/build-wasm.sh and loaded at run time
// relative to the bundle (import.meta.url; see ts/runtime/wasm-files*.ts).
import { existsSync } from 'node:fs';
import typescript from '@rollup/plugin-typescript';

const external = (id) => id.startsWith('node:');
const ts = () => typescript({ tsconfig: './tsconfig.build.json' });

const NODE_IMPORT = /\bimport\(\s*(['"])node:([\w/]+)\1\s*\)/g;
const ANY_NODE_REFERENCE = /(\bimport\s*\(|\bfrom|\brequire\s*\()\s*['"]node:/;

/**
 * The browser flavour of the sources: `x.ts` is replaced by a sibling `x.browser.ts` where one
 * exists, and each dynamic `import('node:…')` (reached only in Node, behind isNode checks or a
 * try/catch) becomes a rejected promise. The build fails if any `node:` reference is left.
 */
function browserPlatform() {
  return {
    name: 'tread-browser-platform',
    async resolveId(source, importer, options) {
      if (!importer || !source.startsWith('.')) return null;
      const resolved = await this.resolve(source, importer, { ...options, skipSelf: true });
      if (!resolved || !resolved.id.endsWith('.ts')) return resolved;
      const twin = resolved.id.replace(/\.ts$/, '.browser.ts');
      return existsSync(twin) ? twin : resolved;
    },
    transform(code) {
      if (!NODE_IMPORT.test(code)) return null;
      NODE_IMPORT.lastIndex = 0;
      const out = code.replace(NODE_IMPORT, (_, _q, mod) =>
        `Promise.reject(new Error("tread: Node's '${mod}' module is not available in the browser build"))`);
      return { code: out, map: null };
    },
    renderChunk(code, chunk) {
      const m = ANY_NODE_REFERENCE.exec(code);
      if (m) this.error(`${chunk.fileName} still references a node: module near: ${code.slice(m.index, m.index + 60)}`);
      return null;
    },
  };
}

export default [
  {
    input: 'ts/index.ts',
    output: { file: 'dist/tread.js', format: 'es', sourcemap: true },
    external,
    plugins: [ts()],
  },
  {
    input: 'ts/index.ts',
    output: { file: 'dist/tread.browser.js', format: 'es', sourcemap: true, inlineDynamicImports: true },
    plugins: [browserPlatform(), ts()],
  },
  {
    // The worker of Study.optimizeParallel (Node worker_threads), loaded by URL beside tread.js.
    input: 'ts/search/trial_worker.ts',
    output: { file: 'dist/trial-worker.js', format: 'es', sourcemap: true },
    external,
    plugins: [ts()],
  },
  {
    input: 'ts/cli/main.ts',
    output: { file: 'dist/cli.js', format: 'es', banner: '#!/usr/bin/env node', sourcemap: true },
    external,
    plugins: [ts()],
  },
];
