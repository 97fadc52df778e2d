/**
 * The plumbing of the benchmarks that race baselines in child processes (bench/harness.ts,
 * bench/child.ts, bench/torch_child.*, bench/jax_child.ts): rounds alternate, the line protocol
 * answers and fails as it should, and the PyTorch and jax-js steps really train (their loss on
 * the fixed batch falls), with the BLAS and threads the benchmarks claim. The baselines are
 * skipped where they are not installed (no /usr/bin/python3 with torch, no Node 24).
 */
import { existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { alternateRounds, median } from '../bench/harness.js';
import { cpuLine } from '../bench/cpu.js';
import { LineChild } from '../bench/child.js';
import { PYTHON, cpuFlags, openblasCoretype, startTorch } from '../bench/torch_child.js';
import { startJax } from '../bench/jax.js';
import { NODE24 } from '../bench/node24.js';

const hasTorch = (() => {
  if (!existsSync(PYTHON)) return false;
  try {
    execFileSync(PYTHON, ['-c', 'import torch'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

describe('openblasCoretype', () => {
  // Flags as /proc/cpuinfo prints them on this project's two machine kinds (trimmed).
  const zen3 = 'processor\t: 0\nmodel name\t: AMD EPYC\nflags\t\t: fpu sse sse2 avx fma avx2 bmi2 vaes\n';
  const zen4 = 'processor\t: 0\nflags\t\t: fpu avx avx2 avx512f avx512dq avx512cd avx512bw avx512vl avx512_bf16\n';
  it('reads the flags line of /proc/cpuinfo', () => {
    expect(cpuFlags(zen3)).toEqual(['fpu', 'sse', 'sse2', 'avx', 'fma', 'avx2', 'bmi2', 'vaes']);
    expect(cpuFlags('processor\t: 0\n')).toEqual([]);
  });
  it('names the CPU and its widest vector ISA in the reports (cpuLine)', () => {
    const two = (flags: string) => [0, 1].map((i) => `processor\t: ${i}\ncpu family\t: 25\nmodel\t\t: 17\nmodel name\t: AMD EPYC 9R14\nflags\t\t: ${flags}\n`).join('\n');
    expect(cpuLine(two('fpu avx2 avx512f avx512vl'))).toBe('AMD EPYC 9R14 (family 25 model 17), AVX-512, 2 CPUs');
    expect(cpuLine(two('fpu avx fma avx2'))).toBe('AMD EPYC 9R14 (family 25 model 17), AVX2 (no AVX-512), 2 CPUs');
  });
  it('asks for the SkylakeX kernels only where the CPU has their AVX-512 subsets, and a user setting wins', () => {
    expect(openblasCoretype(cpuFlags(zen3), {})).toBeUndefined();
    expect(openblasCoretype(cpuFlags(zen4), {})).toBe('SkylakeX');
    expect(openblasCoretype(['avx512f', 'avx512vl'], {})).toBeUndefined();
    expect(openblasCoretype(cpuFlags(zen4), { OPENBLAS_CORETYPE: 'Haswell' })).toBe('Haswell');
  });
});

describe('alternateRounds', () => {
  it('interleaves the contenders round by round and honours maxRounds and budgetMs', async () => {
    const order: string[] = [];
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    const stats = await alternateRounds(
      [
        { name: 'a', round: (r) => (order.push(`a${r}`), r + 1) },
        { name: 'b', round: async (r) => (order.push(`b${r}`), 10 - r), maxRounds: 2 },
        { name: 'c', round: async (r) => (await sleep(30), order.push(`c${r}`), 5), budgetMs: 20 },
      ],
      4,
    );
    expect(order).toEqual(['a0', 'b0', 'c0', 'a1', 'b1', 'a2', 'a3']);
    expect(stats[0]).toEqual({ median: 2.5, best: 1, rounds: [1, 2, 3, 4] });
    expect(stats[1]!.rounds).toEqual([10, 9]);
    expect(stats[2]!.rounds).toEqual([5]);
    expect(median([3, 1, 2])).toBe(2);
  });
});

describe('LineChild', () => {
  const script = `
    const rl = require('node:readline').createInterface({ input: process.stdin });
    console.log(JSON.stringify({ ready: true, pid: process.pid }));
    rl.on('line', (l) => {
      const [cmd, x] = l.split(' ');
      if (cmd === 'quit') process.exit(0);
      if (cmd === 'die') process.exit(3);
      if (cmd === 'double') console.log(JSON.stringify({ value: 2 * Number(x) }));
      else console.log(JSON.stringify({ error: 'unknown command: ' + cmd }));
    });`;

  it('answers each command with one JSON line, in order, and rejects an error answer', async () => {
    const { child, ready } = await LineChild.start('echo', process.execPath, ['-e', script], process.env);
    expect(ready.ready).toBe(true);
    const answers = await Promise.all([child.ask('double 2'), child.ask('double 21')]);
    expect(answers.map((a) => a.value)).toEqual([4, 42]);
    await expect(child.ask('nonsense')).rejects.toThrow('echo: unknown command: nonsense');
    expect((await child.ask('double 5')).value).toBe(10);
    await child.close();
    await expect(child.ask('double 1')).rejects.toThrow(/exited/);
  });

  it('rejects what is pending when the child dies, and a child that cannot start', async () => {
    const { child } = await LineChild.start('echo', process.execPath, ['-e', script], process.env);
    await expect(child.ask('die')).rejects.toThrow('echo exited (status 3)');
    await expect(LineChild.start('nothing', '/nonexistent/python3', [], process.env)).rejects.toThrow(/could not start|exited/);
  });
});

describe.skipIf(!hasTorch)('PyTorch child (bench/torch_child.py)', () => {
  it('runs on OpenMP OpenBLAS, follows set_num_threads, and its steps train', async () => {
    const { torch, note } = await startTorch();
    expect(torch, note).not.toBeNull();
    try {
      const info = torch!.info;
      expect(info.set_num_threads).toEqual({ '1': 1, '2': 2 });
      if (existsSync('/usr/lib/x86_64-linux-gnu/openblas-openmp')) {
        expect(info.blas.openblas).toMatch(/OpenBLAS/);
        expect(info.blas.parallel).toBe('openmp');
        expect(note).not.toMatch(/WARNING/);
        // The kernels asked for (SkylakeX on an AVX-512 CPU) are the ones OpenBLAS runs.
        const asked = openblasCoretype(cpuFlags());
        if (asked) expect(info.blas.core?.toLowerCase()).toBe(asked.toLowerCase());
      }
      // Adam on one fixed batch: the loss falls (random labels are memorized).
      const first = Number((await torch!.child.ask('round mlp 1 1')).loss);
      const later = Number((await torch!.child.ask('round mlp 2 30')).loss);
      expect(first).toBeGreaterThan(1.8);
      expect(later).toBeLessThan(first - 0.3);
      const g = await torch!.child.ask('gemm AtB 128 1 0');
      expect(g.calls).toBe(1);
      expect(Number(g.gflops)).toBeGreaterThan(0);
      await expect(torch!.child.ask('round rnn 1 1')).rejects.toThrow(/unknown command/);
    } finally {
      await torch!.child.close();
    }
  });
});

describe.skipIf(!existsSync(NODE24))('jax-js child (bench/jax_child.ts, Node 24)', () => {
  it('starts with and without its worker pool, and its jit-compiled Adam step trains', async () => {
    for (const threads of [1, 2]) {
      const { jax, note } = await startJax(threads);
      expect(jax, note).not.toBeNull();
      try {
        expect(jax!.ready).toMatchObject({ jax: '0.1.25', device: 'wasm', threads, pool: threads === 1 ? 'none' : 'web_worker_shim' });
        const first = Number((await jax!.child.ask('round mlp 1')).loss);
        const later = Number((await jax!.child.ask('round mlp 20')).loss);
        expect(later).toBeLessThan(first - 0.3);
        const g = await jax!.child.ask('gemm ABt 64 0');
        expect(g.calls).toBe(1);
        expect(Number(g.gflops)).toBeGreaterThan(0);
      } finally {
        await jax!.child.close();
      }
    }
  });
});
