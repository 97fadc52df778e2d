/**
 * jax-js (@jax-js/jax, a devDependency) as a baseline: bench/jax_child.ts in a child process
 * under Node 24 (jax-js needs Node >= 21), one per thread count, driven through bench/child.ts.
 * When it cannot start, the benchmark says why and goes on without it.
 */
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LineChild, type Answer } from './child.js';
import { NODE24, tsxArgs } from './node24.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..');

export interface Jax {
  child: LineChild;
  threads: number;
  ready: Answer;
}

/** Starts jax-js with `threads` (1: no worker pool; 2: a pool of 2 through bench/web_worker_shim.ts). */
export async function startJax(threads: number): Promise<{ jax: Jax | null; note: string }> {
  if (!existsSync(NODE24)) return { jax: null, note: `jax-js not run: no Node 24 at ${NODE24} (scripts/setup.sh installs it)` };
  if (!existsSync(resolve(root, 'node_modules/@jax-js/jax'))) return { jax: null, note: 'jax-js not run: @jax-js/jax is not installed (npm ci)' };
  try {
    const { child, ready } = await LineChild.start(`jax-js ${threads}T`, NODE24, tsxArgs(resolve(here, 'jax_child.ts'), ['--threads', String(threads)]), { ...process.env }, root);
    return { jax: { child, threads, ready }, note: `jax-js ${String(ready.jax)} (wasm, ${threads === 1 ? 'no worker pool' : `a pool of ${threads} workers via a Worker shim`}, Node ${String(ready.node)})` };
  } catch (e) {
    return { jax: null, note: `jax-js not run: ${(e as Error).message}` };
  }
}

/** The optimizers jax-js runs, for the report (it has no optimizer package here). */
export const JAX_OPTIMIZERS = 'Adam / SGD-momentum written with jax-js ops, jit-compiled with valueAndGrad';
