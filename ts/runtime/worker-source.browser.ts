/**
 * Browser twin of worker-source.ts (rollup.config.mjs swaps it in for dist/tread.browser.js):
 * the same pool worker without its Node branch, so the browser bundle names no `node:`
 * module at all, not even inside a string.
 */
export const WORKER_SOURCE = `
'use strict';
let exp = null;
self.onmessage = (msg) => {
  const m = msg.data;
  if (m.type === 'init') {
    const inst = new WebAssembly.Instance(m.module, {
      env: { memory: m.memory },
      tread: { spawn_worker: () => { throw new Error('tread: only the main thread spawns workers'); } },
    });
    exp = inst.exports;
    exp.__stack_pointer.value = m.stackTop;
    exp.__wasm_init_tls(m.tls);
    self.postMessage({ type: 'ready' });
  } else if (m.type === 'run') {
    exp.tread_worker_run(m.builder);
  }
};
`;
