// One wasm variant in a Worker: ?relaxed=1 or 0 picks init's relaxedSimd; 2 threads.
import * as tread from '/dist/tread.js';
import { convCheck, gemmCheck, trainCheck } from './variant-check.mjs';

try {
  const relaxedSimd = new URL(import.meta.url).searchParams.get('relaxed') === '1';
  const info = await tread.init({ threads: 2, relaxedSimd });
  postMessage({ info, gemm: gemmCheck(tread), conv: convCheck(tread), train: trainCheck(tread) });
} catch (err) {
  postMessage({ error: String(err && err.stack || err) });
}
