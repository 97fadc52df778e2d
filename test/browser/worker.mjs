import * as tread from '/dist/tread.js';
import { check } from './matmul-check.mjs';

try {
  const info = await tread.init({ threads: 2 });
  postMessage({ info, isolated: self.crossOriginIsolated, ...check(tread) });
} catch (err) {
  postMessage({ error: String(err && err.stack || err) });
}
