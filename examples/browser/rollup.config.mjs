// rollup.config.mjs: Rollup picks tread's browser build with `browser: true`; the page and the
// worker are two inputs. Then, as with esbuild: cp -r node_modules/tread/dist/wasm public/wasm
import { nodeResolve } from '@rollup/plugin-node-resolve';

export default {
  input: ['main.js', 'worker.js'],
  output: { dir: 'public', format: 'es' },
  plugins: [nodeResolve({ browser: true })],
};
