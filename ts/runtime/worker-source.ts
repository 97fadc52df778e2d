/**
 * The code of a pool worker, as a string, so that one source serves Node's worker_threads
 * (eval) and browsers (a Blob URL), and no separate file has to be found at run time.
 *
 * A worker receives the compiled module and the shared memory, instantiates its own
 * instance over them, moves its shadow stack to the region the main thread reserved,
 * sets up its thread-local storage, says "ready", and then runs one pool worker
 * (tread_worker_run) when the main thread's pool asks for it. That call never returns.
 */
export const WORKER_SOURCE = `
'use strict';
const isNode = typeof process !== 'undefined' && process.versions && process.versions.node;
// eval'd code is a module when the process runs with --input-type=module: no require there.
const nodeThreads = () => (typeof require === 'function' ? require : process.getBuiltinModule)('node:worker_threads');
const port = isNode ? nodeThreads().parentPort : self;
let exp = null;
const onMessage = (msg) => {
  const m = isNode ? msg : msg.data;
  if (m.type === 'init') {
    const inst = new WebAssembly.Instance(m.module, {
      env: { memory: m.memory },
      tread: { spawn_worker: () => { throw new Error('tread: only the main thread spawns workers'); } },
    });
    exp = inst.exports;
    exp.__stack_pointer.value = m.stackTop;
    exp.__wasm_init_tls(m.tls);
    port.postMessage({ type: 'ready' });
  } else if (m.type === 'run') {
    exp.tread_worker_run(m.builder);
  }
};
if (isNode) port.on('message', onMessage); else self.onmessage = onMessage;
`;
