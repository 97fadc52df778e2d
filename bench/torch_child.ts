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
import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LineChild, type Answer } from './child.js';

const here = dirname(fileURLToPath(import.meta.url));
export const PYTHON = '/usr/bin/python3';
export const OPENBLAS_OPENMP = '/usr/lib/x86_64-linux-gnu/openblas-openmp';

/** The AVX-512 subsets OpenBLAS's SkylakeX kernels use. */
const SKYLAKEX_FLAGS = ['avx512f', 'avx512cd', 'avx512bw', 'avx512dq', 'avx512vl'];

/** This CPU's feature flags, from /proc/cpuinfo (none where it cannot be read). */
export function cpuFlags(cpuinfo?: string): string[] {
  let text = cpuinfo;
  if (text === undefined) {
    try {
      text = readFileSync('/proc/cpuinfo', 'utf8');
    } catch {
      return [];
    }
  }
  const line = text.split('\n').find((l) => /^flags\s*:/.test(l));
  return line ? line.slice(line.indexOf(':') + 1).trim().split(/\s+/) : [];
}

/**
 * Which OpenBLAS kernels torch should run: the strongest ones the CPU can run. OpenBLAS 0.3.21
 * (Debian 12) takes AMD Zen 4 for a Zen core and runs its AVX2 kernels (it reports "Zen"),
 * although the CPU has AVX-512: on a Zen 4 machine of this project PyTorch's CNN step took
 * 48 ms at one thread on them and 20 ms on the SkylakeX (AVX-512) kernels, which match the
 * project's recorded baseline. So where the CPU has the AVX-512 subsets those kernels use, the
 * benchmarks ask for them; elsewhere (an AVX2-only Zen 3) OpenBLAS's own pick stands. A
 * user's OPENBLAS_CORETYPE always wins. Returns the value to set, or undefined for none.
 */
export function openblasCoretype(flags: readonly string[], env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.OPENBLAS_CORETYPE) return env.OPENBLAS_CORETYPE;
  return SKYLAKEX_FLAGS.every((f) => flags.includes(f)) ? 'SkylakeX' : undefined;
}

/**
 * The environment torch runs in: OpenMP OpenBLAS first on the library path when installed,
 * with the strongest kernels the CPU runs (openblasCoretype).
 */
export function torchEnv(threads?: number): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  if (existsSync(OPENBLAS_OPENMP)) env.LD_LIBRARY_PATH = [OPENBLAS_OPENMP, process.env.LD_LIBRARY_PATH].filter(Boolean).join(':');
  const core = openblasCoretype(cpuFlags());
  if (core) env.OPENBLAS_CORETYPE = core;
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
    const asked = openblasCoretype(cpuFlags());
    const why = process.env.OPENBLAS_CORETYPE ? ' by OPENBLAS_CORETYPE' : asked ? ' (AVX-512 CPU: the benchmark sets OPENBLAS_CORETYPE=SkylakeX)' : '';
    const describe = `PyTorch ${info.torch} + ${info.blas.openblas ?? 'no OpenBLAS'} (${info.blas.parallel ?? '?'}, ${info.blas.core ?? '?'} kernels${why})${problems.length ? `; WARNING: ${problems.join('; ')}` : ''}`;
    return { torch: { child, info, describe }, note: describe };
  } catch (e) {
    await child?.close();
    return { torch: null, note: `PyTorch not run: ${(e as Error).message}` };
  }
}
