import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { init } from '../ts/runtime/wasm.js';
import { tensor } from '../ts/tensor/create.js';
import type { Tensor } from '../ts/tensor/tensor.js';
import { atomicWriteFile } from '../ts/train/atomic.js';
import { CheckpointError, loadCheckpoint, loadWeights, saveCheckpoint, saveWeights } from '../ts/train/checkpoint.js';
import { parseSafetensors, serializeSafetensors } from '../ts/train/safetensors.js';

beforeAll(async () => {
  await init({ threads: 1 });
});

const dir = mkdtempSync(join(tmpdir(), 'tread-ckpt-'));

/** A module-shaped object over plain tensors (checkpoints need nothing more). */
function fakeModel(seed = 1) {
  const r = (n: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(seed * 7 + i));
  const state = new Map<string, Tensor>([
    ['0.weight', tensor(r(12), [3, 4])],
    ['0.bias', tensor(r(3), [3])],
    ['1.running_mean', tensor(r(3), [3])],
    ['1.num_batches_tracked', tensor(new Int32Array([5]), [])],
  ]);
  return {
    state,
    forward: (x: Tensor) => x,
    parameters: () => [state.get('0.weight')!, state.get('0.bias')!],
    namedParameters: () => [...state].filter(([n]) => !n.startsWith('1.')),
    stateDict: () => state,
    loadStateDict: () => {},
    train: () => {},
    eval: () => {},
  };
}

function values(m: ReturnType<typeof fakeModel>): Record<string, number[]> {
  return Object.fromEntries([...m.state].map(([n, t]) => [n, [...t.data]]));
}

/** An optimizer-shaped object whose state has tensors, numbers and nested groups. */
function fakeOptimizer(m: ReturnType<typeof fakeModel>) {
  const opt = {
    paramGroups: [{ params: m.parameters(), lr: 0.1, momentum: 0.9 }],
    st: { state: { 0: { step: 3, momentum_buffer: tensor([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], [3, 4]) } }, param_groups: [{ lr: 0.1, momentum: 0.9, params: [0, 1] }] } as any,
    zeroGrad() {},
    step() {},
    stateDict() {
      return opt.st;
    },
    loadStateDict(sd: any) {
      if (!sd.param_groups || sd.param_groups.length !== 1) throw new Error('loaded state has a different number of parameter groups');
      opt.st = sd;
      opt.paramGroups[0].lr = sd.param_groups[0].lr;
    },
  };
  return opt;
}

describe('safetensors', () => {
  it('round-trips F32, I32, I64 and metadata, header padded to 8 bytes', () => {
    const bytes = serializeSafetensors(
      { a: { shape: [2, 3], data: Float32Array.from([1, 2, 3, 4, 5, -6.5]) }, b: { shape: [2], data: Int32Array.from([7, -8]) }, c: { shape: [], data: Int32Array.from([123456]), dtype: 'I64' } },
      { hello: 'world' },
    );
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect(n % 8).toBe(0);
    const f = parseSafetensors(bytes);
    expect(f.metadata).toEqual({ hello: 'world' });
    expect(f.tensors.get('a')).toEqual({ dtype: 'F32', shape: [2, 3], data: Float32Array.from([1, 2, 3, 4, 5, -6.5]) });
    expect(f.tensors.get('b')!.data).toEqual(Int32Array.from([7, -8]));
    expect(f.tensors.get('c')).toEqual({ dtype: 'I64', shape: [], data: Int32Array.from([123456]) });
  });

  it('reads F16, BF16 and F64', () => {
    const header = JSON.stringify({
      h: { dtype: 'F16', shape: [2], data_offsets: [0, 4] },
      b: { dtype: 'BF16', shape: [1], data_offsets: [4, 6] },
      d: { dtype: 'F64', shape: [1], data_offsets: [6, 14] },
    });
    const hb = new TextEncoder().encode(header);
    const buf = new Uint8Array(8 + hb.length + 14);
    const dv = new DataView(buf.buffer);
    dv.setBigUint64(0, BigInt(hb.length), true);
    buf.set(hb, 8);
    const o = 8 + hb.length;
    dv.setUint16(o, 0x3c00, true); // 1.0
    dv.setUint16(o + 2, 0xc000, true); // -2.0
    dv.setUint16(o + 4, 0x4049, true); // bf16 ~3.140625
    dv.setFloat64(o + 6, 0.25, true);
    const f = parseSafetensors(buf);
    expect([...f.tensors.get('h')!.data]).toEqual([1, -2]);
    expect(f.tensors.get('b')!.data[0]).toBeCloseTo(3.140625, 6);
    expect(f.tensors.get('d')!.data[0]).toBe(0.25);
  });

  it('rejects corrupt files with a message that says what is wrong', () => {
    const good = serializeSafetensors({ a: { shape: [4], data: new Float32Array(4) } });
    expect(() => parseSafetensors(good.subarray(0, 5))).toThrow(/too short/);
    const huge = good.slice();
    new DataView(huge.buffer).setBigUint64(0, 1n << 40n, true);
    expect(() => parseSafetensors(huge)).toThrow(/header length .* larger than/);
    const past = good.slice();
    new DataView(past.buffer).setBigUint64(0, BigInt(good.length), true);
    expect(() => parseSafetensors(past)).toThrow(/runs past the end/);
    expect(() => parseSafetensors(good.subarray(0, good.length - 3))).toThrow(/truncated/);
    const garbage = good.slice();
    garbage[8] = 0x7a; // 'z' instead of '{'
    expect(() => parseSafetensors(garbage)).toThrow(/not valid JSON/);
    const trailing = new Uint8Array(good.length + 4);
    trailing.set(good);
    expect(() => parseSafetensors(trailing)).toThrow(/trailing bytes/);
  });
});

describe('checkpoints', () => {
  it('round-trip model, optimizer and training state (num_batches_tracked as I64)', async () => {
    const m = fakeModel(1);
    const o = fakeOptimizer(m);
    const file = join(dir, 'rt.safetensors');
    await saveCheckpoint(file, { model: m, optimizer: o, training: { epoch: 3, globalStep: 42, rng: { s: [1, 2] }, extra: { best: Infinity } } });
    const parsed = parseSafetensors(new Uint8Array(readFileSync(file)));
    expect(parsed.tensors.get('1.num_batches_tracked')!.dtype).toBe('I64');
    expect(parsed.tensors.has('optimizer.state.0.momentum_buffer')).toBe(true);
    expect(parsed.metadata.format).toBe('pt');

    const m2 = fakeModel(2);
    const o2 = fakeOptimizer(m2);
    o2.st.param_groups[0].lr = 0.5;
    const loaded = await loadCheckpoint(file, { model: m2, optimizer: o2 });
    expect(values(m2)).toEqual(values(m));
    expect(loaded.training.epoch).toBe(3);
    expect(loaded.training.globalStep).toBe(42);
    expect(loaded.training.rng).toEqual({ s: [1, 2] });
    expect((loaded.training.extra as any).best).toBe(Infinity);
    expect(o2.paramGroups[0].lr).toBe(0.1);
    expect([...o2.st.state[0].momentum_buffer.data]).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    expect(o2.st.state[0].step).toBe(3);
  });

  it('loads a file in PyTorch layout (unpadded header, F32 + 0-d I64 num_batches_tracked)', async () => {
    // As safetensors.torch.save_file(model.state_dict()) writes it for Linear(4,3) + BatchNorm1d(3).
    const w = Float32Array.from({ length: 12 }, (_, i) => i / 10);
    const b = Float32Array.from([0.5, -0.5, 1.5]);
    const rm = Float32Array.from([0.1, 0.2, 0.3]);
    const header = {
      __metadata__: { format: 'pt' },
      '0.bias': { dtype: 'F32', shape: [3], data_offsets: [0, 12] },
      '0.weight': { dtype: 'F32', shape: [3, 4], data_offsets: [12, 60] },
      '1.num_batches_tracked': { dtype: 'I64', shape: [], data_offsets: [60, 68] },
      '1.running_mean': { dtype: 'F32', shape: [3], data_offsets: [68, 80] },
    };
    const hb = new TextEncoder().encode(JSON.stringify(header));
    const buf = new Uint8Array(8 + hb.length + 80);
    const dv = new DataView(buf.buffer);
    dv.setBigUint64(0, BigInt(hb.length), true);
    buf.set(hb, 8);
    const o = 8 + hb.length;
    b.forEach((v, i) => dv.setFloat32(o + i * 4, v, true));
    w.forEach((v, i) => dv.setFloat32(o + 12 + i * 4, v, true));
    dv.setBigInt64(o + 60, 17n, true);
    rm.forEach((v, i) => dv.setFloat32(o + 68 + i * 4, v, true));
    const file = join(dir, 'torch.safetensors');
    writeFileSync(file, buf);
    const m = fakeModel(3);
    const report = await loadWeights(file, m);
    expect(report.missing).toEqual([]);
    expect([...m.state.get('0.weight')!.data]).toEqual([...w]);
    expect([...m.state.get('0.bias')!.data]).toEqual([...b]);
    expect([...m.state.get('1.running_mean')!.data]).toEqual([...rm]);
    expect(m.state.get('1.num_batches_tracked')!.data[0]).toBe(17);
  });

  it('rejects a mismatched checkpoint, names every problem and leaves the model unchanged', async () => {
    const file = join(dir, 'mismatch.safetensors');
    const other = new Map<string, Tensor>([
      ['0.weight', tensor(new Float32Array(8), [2, 4])],
      ['0.bias', tensor(new Float32Array(3), [3])],
      ['2.weight', tensor(new Float32Array(3), [3])],
    ]);
    await saveWeights(file, other);
    const m = fakeModel(4);
    const before = values(m);
    const err = await loadWeights(file, m).catch((e) => e);
    expect(err).toBeInstanceOf(CheckpointError);
    expect(err.message).toMatch(/'0\.weight': shape \[2, 4\] in the weights file .*, \[3, 4\] in the model/);
    expect(err.message).toMatch(/missing from the weights file .*'1\.running_mean'/);
    expect(err.message).toMatch(/not in the model: '2\.weight'/);
    expect(err.message).toMatch(/nothing was loaded/);
    expect(values(m)).toEqual(before);
    // A dtype mismatch (float data for the int buffer) is caught too.
    const bad = new Map<string, Tensor>([...fakeModel(5).state]);
    bad.set('1.num_batches_tracked', tensor([1.5], []));
    await saveWeights(file, bad);
    const err2 = await loadWeights(file, m).catch((e) => e);
    expect(err2.message).toMatch(/'1\.num_batches_tracked': dtype F32 .* int32/);
    expect(values(m)).toEqual(before);
  });

  it('non-strict loading takes the matching names and reports the rest', async () => {
    const file = join(dir, 'partial.safetensors');
    const src = fakeModel(6);
    const partial = new Map<string, Tensor>([['0.weight', src.state.get('0.weight')!], ['9.extra', tensor([1], [1])]]);
    await saveWeights(file, partial);
    const m = fakeModel(7);
    const report = await loadWeights(file, m, { strict: false });
    expect(report.loaded).toEqual(['0.weight']);
    expect(report.unexpected).toEqual(['9.extra']);
    expect(report.missing.sort()).toEqual(['0.bias', '1.num_batches_tracked', '1.running_mean']);
    expect([...m.state.get('0.weight')!.data]).toEqual([...src.state.get('0.weight')!.data]);
  });

  it('rejects corrupt checkpoint files clearly and leaves the model unchanged', async () => {
    const file = join(dir, 'corrupt.safetensors');
    const m = fakeModel(8);
    await saveCheckpoint(file, { model: m, training: { epoch: 1, globalStep: 1 } });
    const good = readFileSync(file);
    const target = fakeModel(9);
    const before = values(target);
    writeFileSync(file, good.subarray(0, good.length - 10));
    await expect(loadCheckpoint(file, { model: target })).rejects.toThrow(/truncated.*nothing was loaded/s);
    const g2 = Buffer.from(good);
    g2.fill(0x41, 8, 40);
    writeFileSync(file, g2);
    await expect(loadCheckpoint(file, { model: target })).rejects.toThrow(/not valid JSON/);
    const g3 = Buffer.from(good);
    g3.writeBigUInt64LE(123456789n, 0);
    writeFileSync(file, g3);
    await expect(loadCheckpoint(file, { model: target })).rejects.toThrow(/header length/);
    await expect(loadCheckpoint(join(dir, 'nope.safetensors'), { model: target })).rejects.toThrow(/cannot read checkpoint/);
    expect(values(target)).toEqual(before);
  });

  it('an optimizer that refuses its state leaves the model unchanged', async () => {
    const file = join(dir, 'opt.safetensors');
    const m = fakeModel(10);
    const o = fakeOptimizer(m);
    o.st.param_groups.push({ lr: 1, params: [] });
    await saveCheckpoint(file, { model: m, optimizer: o });
    const t = fakeModel(11);
    const before = values(t);
    await expect(loadCheckpoint(file, { model: t, optimizer: fakeOptimizer(t) })).rejects.toThrow(/different number of parameter groups.*left unchanged/);
    expect(values(t)).toEqual(before);
  });

  it('a failure between write and rename leaves the previous checkpoint intact', async () => {
    const file = join(dir, 'atomic.safetensors');
    const m = fakeModel(12);
    await saveCheckpoint(file, { model: m, training: { epoch: 1, globalStep: 10 } });
    const before = readFileSync(file);
    const m2 = fakeModel(13);
    await expect(
      saveCheckpoint(file, {
        model: m2,
        training: { epoch: 2, globalStep: 20 },
        beforeRename: () => {
          throw new Error('simulated crash');
        },
      }),
    ).rejects.toThrow(/simulated crash/);
    expect(readFileSync(file).equals(before)).toBe(true);
    expect(readdirSync(dir).filter((n) => n.includes('atomic.safetensors.tmp'))).toEqual([]);
    const t = fakeModel(14);
    const loaded = await loadCheckpoint(file, { model: t });
    expect(loaded.training.epoch).toBe(1);
    expect(values(t)).toEqual(values(m));
  });

  it('a process killed while saving a large checkpoint leaves the previous one intact', async () => {
    const file = join(dir, 'killed.safetensors');
    const m = fakeModel(15);
    await saveCheckpoint(file, { model: m, training: { epoch: 7, globalStep: 70 } });
    const before = readFileSync(file);
    const child = spawn(process.execPath, ['--import', 'tsx', join(__dirname, 'helpers/checkpoint-child.ts'), file, '256'], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    const tempOf = () => readdirSync(dir).find((n) => n.startsWith('.killed.safetensors.tmp-'));
    // Kill as soon as the temporary file has some bytes (mid-write), or at the latest once synced.
    let partialSize = -1;
    await new Promise<void>((resolve, reject) => {
      const t0 = Date.now();
      const iv = setInterval(() => {
        const tmp = tempOf();
        let size = 0;
        if (tmp) {
          try {
            size = statSync(join(dir, tmp)).size;
          } catch {
            size = 0;
          }
        }
        if ((tmp && size > 0) || out.includes('SYNCED')) {
          clearInterval(iv);
          partialSize = size;
          child.kill('SIGKILL');
          resolve();
        } else if (Date.now() - t0 > 60_000) {
          clearInterval(iv);
          child.kill('SIGKILL');
          reject(new Error(`child never started writing; stdout: ${out}`));
        }
      }, 2);
    });
    await new Promise((r) => child.on('exit', r));
    expect(partialSize).toBeGreaterThan(0);
    expect(out).not.toContain('DONE');
    expect(readFileSync(file).equals(before)).toBe(true);
    const t = fakeModel(16);
    const loaded = await loadCheckpoint(file, { model: t });
    expect(loaded.training.epoch).toBe(7);
    expect(values(t)).toEqual(values(m));
    // The dead writer's temporary file is removed by the next successful save.
    expect(tempOf()).toBeDefined();
    await saveCheckpoint(file, { model: m, training: { epoch: 8, globalStep: 80 } });
    expect(tempOf()).toBeUndefined();
  }, 120_000);

  it('atomicWriteFile creates missing folders', async () => {
    const f = join(dir, 'a/b/c.bin');
    await atomicWriteFile(f, new Uint8Array([1, 2, 3]));
    expect(existsSync(f)).toBe(true);
    expect([...readFileSync(f)]).toEqual([1, 2, 3]);
  });
});
