/** What the benchmarks say of the machine they ran on (Node only: reads /proc/cpuinfo). */
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

/**
 * The CPU, for every report: machines of one kind differ from session to session here (an
 * AVX-512 AMD Zen 4 one day, an AVX2-only Zen 3 the next), and with them both ceilings: wasm
 * SIMD128's (FMA ports and clock) and native BLAS's (AVX-512 vs AVX2 kernels). Numbers from
 * different CPUs do not compare; ratios from one run do.
 */
export function cpuLine(cpuinfo?: string): string {
  let text = cpuinfo;
  if (text === undefined) {
    try {
      text = readFileSync('/proc/cpuinfo', 'utf8');
    } catch {
      return `${availableParallelism()} CPUs (no /proc/cpuinfo)`;
    }
  }
  const field = (name: string) => text!.split('\n').find((l) => l.startsWith(name))?.split(':')[1]?.trim() ?? '?';
  const flags = field('flags').split(/\s+/);
  const isa = flags.includes('avx512f') ? 'AVX-512' : flags.includes('avx2') ? 'AVX2 (no AVX-512)' : 'no AVX2';
  const cpus = cpuinfo === undefined ? availableParallelism() : text.split('\n').filter((l) => l.startsWith('processor')).length;
  return `${field('model name')} (family ${field('cpu family')} model ${field('model')}), ${isa}, ${cpus} CPUs`;
}
