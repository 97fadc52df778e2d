/**
 * PyTorch as a baseline: how to run Debian's python3-torch with the right BLAS (shared by every
 * benchmark that runs it: bench/landscape.ts runs a one-shot script, bench/train.ts,
 * bench/gemm.ts and bench/fashion.ts keep bench/torch_child.py running and race it round by
 * round through bench/child.ts).
 *
 * - /usr/bin/python3, not the first python3 on PATH (which may be another build without torch).
 * - LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-openmp: the OpenMP build of OpenBLAS
 *   (Debian libopenblas0-openmp, scripts/setup.sh installs it). Without OpenBLAS torch uses the
 *   reference BLAS (~5.5 GFLOP/s); with the pthread build torch.set_num_threads does not reach
 *   OpenBLAS and torch at 2 threads is slower than at 1 (see the project's baseline notes).
 *
 * When torch cannot start, the benchmark says why and goes on without it.
 */
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LineChild, type Answer } from './child.js';

const here = dirname(fileURLToPath(import.meta.url));
export const PYTHON = '/usr/bin/python3';
export const OPENBLAS_OPENMP = '/usr/lib/x86_64-linux-gnu/openblas-openmp';

/** The environment torch runs in: OpenMP OpenBLAS first on the library path when installed. */
export function torchEnv(threads?: number): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  if (existsSync(OPENBLAS_OPENMP)) env.LD_LIBRARY_PATH = [OPENBLAS_OPENMP, process.env.LD_LIBRARY_PATH].filter(Boolean).join(':');
  if (threads !== undefined) env.OMP_NUM_THREADS = String(threads);
  else delete env.OMP_NUM_THREADS; // torch.set_num_threads decides, per round
  return env;
}

export interface TorchInfo {
  torch: string;
  blas: { libraries: string[]; openblas?: string; parallel?: string; core?: string };
  set_num_threads: Record<string, number>;
}

export interface Torch {
  child: LineChild;
  info: TorchInfo;
  /** One line for the report: version, BLAS, threading. */
  describe: string;
}

/**
 * Starts bench/torch_child.py and checks it: its BLAS is OpenBLAS (else the numbers would be
 * those of the reference BLAS) and torch.get_num_threads() follows torch.set_num_threads.
 * Returns null, with the reason in `note`, when torch is not there.
 */
export async function startTorch(): Promise<{ torch: Torch | null; note: string }> {
  if (!existsSync(PYTHON)) return { torch: null, note: `PyTorch not run: no ${PYTHON}` };
  let child: LineChild | undefined;
  try {
    ({ child } = await LineChild.start('torch', PYTHON, [resolve(here, 'torch_child.py')], torchEnv()));
    const info = (await child.ask('info')) as Answer as unknown as TorchInfo;
    const problems: string[] = [];
    if (!info.blas.openblas) problems.push(`its BLAS is not OpenBLAS (${info.blas.libraries.join(', ') || 'none found'}): apt-get install libopenblas0-openmp`);
    else if (info.blas.parallel !== 'openmp') problems.push(`OpenBLAS is the ${info.blas.parallel} build, not the OpenMP one (${OPENBLAS_OPENMP} missing?)`);
    if (info.set_num_threads['1'] !== 1 || info.set_num_threads['2'] !== 2) problems.push(`torch.get_num_threads() does not follow set_num_threads: ${JSON.stringify(info.set_num_threads)}`);
    const describe = `PyTorch ${info.torch} + ${info.blas.openblas ?? 'no OpenBLAS'} (${info.blas.parallel ?? '?'}, ${info.blas.core ?? '?'} kernels${process.env.OPENBLAS_CORETYPE ? ` by OPENBLAS_CORETYPE` : ''})${problems.length ? `; WARNING: ${problems.join('; ')}` : ''}`;
    return { torch: { child, info, describe }, note: describe };
  } catch (e) {
    await child?.close();
    return { torch: null, note: `PyTorch not run: ${(e as Error).message}` };
  }
}
