/**
 * Child process of test/relaxed-simd.test.ts (one init per process, so one case per child):
 * `node [--experimental-wasm-relaxed-simd] --import tsx relaxed-child.ts '<init options JSON>'`.
 * Prints one JSON line: what detection says, whether the relaxed .wasm file itself validates on
 * this engine (the independent check of the probe), what init loaded or the error it gave, the
 * console warnings, and a small GEMM against a naive loop.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { hasRelaxedSimd } from '../../ts/runtime/features.js';
import { init } from '../../ts/runtime/wasm.js';
import { matmul } from '../../ts/index.js';
import { tensor } from '../../ts/tensor/create.js';

const root = join(import.meta.dirname, '..', '..');
const options = JSON.parse(process.argv[2] ?? '{}');
const warnings: string[] = [];
console.warn = (m: unknown) => warnings.push(String(m));

let relaxedFileValidates: boolean | null = null;
try {
  relaxedFileValidates = WebAssembly.validate(readFileSync(join(root, 'dist', 'wasm', 'tread-relaxed.wasm')));
} catch {
  relaxedFileValidates = null; // not built
}

const out: Record<string, unknown> = { node: process.versions.node, hasRelaxedSimd: hasRelaxedSimd(), relaxedFileValidates, warnings };
try {
  out.info = await init(options);
  // 37x29 by 29x41: odd shapes, every edge of the microkernel's tiles.
  const [m, k, n] = [37, 29, 41];
  const a = Float32Array.from({ length: m * k }, (_, i) => Math.sin(i * 0.37));
  const b = Float32Array.from({ length: k * n }, (_, i) => Math.cos(i * 0.11));
  const c = matmul(tensor(a, [m, k]), tensor(b, [k, n])).f32;
  let worst = 0;
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += a[i * k + p] * b[p * n + j];
      worst = Math.max(worst, Math.abs(s - c[i * n + j]) / Math.max(1, Math.abs(s)));
    }
  }
  out.gemmWorst = worst;
} catch (e) {
  out.error = String((e as Error).message ?? e);
}
process.stdout.write(`${JSON.stringify(out)}\n`);
process.exit(0);
