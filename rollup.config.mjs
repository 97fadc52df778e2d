// The npm/browser bundle: dist/tread.js (ESM, one file) and the CLI dist/cli.js.
// The .wasm files are built into dist/wasm/ by scripts/build-wasm.sh and loaded at run
// time relative to the bundle (import.meta.url). Node built-ins are only imported
// dynamically, in Node, so the same bundle runs in browsers.
import typescript from '@rollup/plugin-typescript';

const external = (id) => id.startsWith('node:');
const ts = () => typescript({ tsconfig: './tsconfig.build.json' });

export default [
  {
    input: 'ts/index.ts',
    output: { file: 'dist/tread.js', format: 'es', sourcemap: true },
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
