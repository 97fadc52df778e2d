/**
 * Checkpoints without files (ts/train/browser_checkpoint.ts, byte_source.ts, byte_store.ts),
 * the parts that run in Node too: bytes from a File, Blob, fetch() Response and typed
 * arrays, size limits on hostile input, a store (here a Map-backed one with the ByteStore
 * interface), and the same validation as the Node file functions. IndexedDB, OPFS and the
 * download run in Chromium (test/browser-storage.test.ts).
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import * as tread from '../ts/index.js';
import { checkpointBytes, loadCheckpointFrom, loadWeightsFrom, saveCheckpointTo, saveWeightsTo, weightsBytes } from '../ts/train/browser_checkpoint.js';
import { readBytes } from '../ts/util/byte_source.js';
import { indexedDBStore, opfsStore, type ByteStore } from '../ts/train/byte_store.js';
import { CheckpointError, saveCheckpoint, saveWeights } from '../ts/train/checkpoint.js';

const { nn, optim } = tread;

beforeAll(async () => {
  await tread.init({ threads: 1 });
});

function model(seed: number) {
  nn.manualSeed(seed);
  const m = new nn.Sequential(new nn.Linear(3, 5), new nn.BatchNorm1d(5), new nn.ReLU(), new nn.Linear(5, 2));
  const opt = new optim.Adam(m.parameters(), { lr: 0.01 });
  return { m, opt };
}

async function trainSteps(m: tread.nn.Module, opt: tread.optim.Adam, n: number) {
  const x = tread.tensor(Float32Array.from({ length: 24 }, (_, i) => Math.cos(i)), [8, 3]);
  const y = tread.tensor(Int32Array.from({ length: 8 }, (_, i) => i % 2), [8], { dtype: 'int32' });
  const loss = new nn.CrossEntropyLoss();
  for (let i = 0; i < n; i++) {
    opt.zeroGrad();
    loss.forward(m.forward(x), y).backward();
    opt.step();
  }
}

function flat(m: tread.nn.Module): number[] {
  return [...m.stateDict().values()].flatMap((t) => Array.from(t.toArray()));
}

class MapStore implements ByteStore {
  readonly kind = 'map';
  readonly map = new Map<string, Uint8Array>();
  async put(k: string, b: Uint8Array) {
    this.map.set(k, b.slice());
  }
  async get(k: string) {
    return this.map.get(k) ?? null;
  }
  async delete(k: string) {
    this.map.delete(k);
  }
  async keys() {
    return [...this.map.keys()];
  }
}

describe('bytes in, bytes out', () => {
  it('writes byte-for-byte what saveCheckpoint / saveWeights write to files', async () => {
    const { m, opt } = model(1);
    await trainSteps(m, opt, 3);
    const dir = mkdtempSync(join(tmpdir(), 'tread-bc-'));
    await saveWeights(join(dir, 'w.safetensors'), m);
    expect(weightsBytes(m)).toEqual(new Uint8Array(readFileSync(join(dir, 'w.safetensors'))));
    await saveCheckpoint(join(dir, 'c.safetensors'), { model: m, optimizer: opt, training: { epoch: 2, globalStep: 3 } });
    expect(checkpointBytes({ model: m, optimizer: opt, training: { epoch: 2, globalStep: 3 } })).toEqual(new Uint8Array(readFileSync(join(dir, 'c.safetensors'))));
  });

  it('loads from a File, a Blob, a Response and typed arrays; a resumed optimizer continues as the original', async () => {
    const a = model(1);
    await trainSteps(a.m, a.opt, 3);
    const ck = checkpointBytes({ model: a.m, optimizer: a.opt, training: { epoch: 4, globalStep: 3 } });
    const sources = [
      new File([ck.slice()], 'run.safetensors'),
      new Blob([ck.slice()]),
      new Response(ck.slice()),
      ck.slice().buffer,
      ck.slice(),
      new DataView(ck.slice().buffer),
    ];
    for (const src of sources) {
      const b = model(2);
      const loaded = await loadCheckpointFrom(src as any, { model: b.m, optimizer: b.opt });
      expect(loaded.training.epoch).toBe(4);
      expect(flat(b.m)).toEqual(flat(a.m));
    }
    // Continue both: identical (the optimizer's moments came along).
    const b = model(3);
    await loadCheckpointFrom(new Blob([ck.slice()]), { model: b.m, optimizer: b.opt });
    await trainSteps(a.m, a.opt, 2);
    await trainSteps(b.m, b.opt, 2);
    expect(flat(b.m)).toEqual(flat(a.m));
  });

  it('refuses corrupt, truncated, mismatched and oversized input, and changes nothing', async () => {
    const a = model(1);
    const good = weightsBytes(a.m);
    const b = model(2);
    const before = flat(b.m);
    await expect(loadWeightsFrom(new File([good.slice(0, good.length - 5)], 'cut.safetensors'), b.m)).rejects.toThrow(/file 'cut.safetensors'.*truncated.*nothing was loaded/s);
    await expect(loadWeightsFrom(new Response('<html>not found</html>'), b.m)).rejects.toThrow(CheckpointError);
    await expect(loadWeightsFrom(new Response('nope', { status: 404, statusText: 'Not Found' }), b.m)).rejects.toThrow(/HTTP 404 Not Found/);
    const other = new nn.Sequential(new nn.Linear(3, 4));
    await expect(loadWeightsFrom(weightsBytes(other), b.m)).rejects.toThrow(/'0.weight': shape \[4, 3\] in the weights in the bytes, \[5, 3\] in the model/);
    // Sizes: known up front (Blob, Content-Length) and while streaming (no Content-Length).
    await expect(loadWeightsFrom(new Blob([good.slice()]), b.m, { maxBytes: 100 })).rejects.toThrow(/the blob is \d+ bytes, more than maxBytes \(100\)/);
    await expect(loadWeightsFrom(new Response(good.slice(), { headers: { 'content-length': String(good.length) } }), b.m, { maxBytes: 100 })).rejects.toThrow(/more than maxBytes/);
    const stream = new ReadableStream<Uint8Array>({
      start(c) {
        for (let i = 0; i < good.length; i += 64) c.enqueue(good.slice(i, i + 64));
        c.close();
      },
    });
    await expect(loadWeightsFrom(new Response(stream), b.m, { maxBytes: 100 })).rejects.toThrow(/is more than 100 bytes, more than maxBytes/);
    // A checkpoint without optimizer state for a load that asks for one.
    await expect(loadCheckpointFrom(good, { model: b.m, optimizer: b.opt })).rejects.toThrow(/holds no optimizer state/);
    expect(flat(b.m)).toEqual(before);
    // And the good bytes load.
    await loadWeightsFrom(new Response(good.slice()), b.m);
    expect(flat(b.m)).toEqual(flat(a.m));
  });

  it('saves to and loads from a store; keys cannot leave it', async () => {
    const store = new MapStore();
    const a = model(1);
    await trainSteps(a.m, a.opt, 2);
    await saveCheckpointTo(store, 'run-1', { model: a.m, optimizer: a.opt });
    await saveWeightsTo(store, 'run-1.weights', a.m);
    const b = model(5);
    await loadCheckpointFrom(store, 'run-1', { model: b.m, optimizer: b.opt });
    expect(flat(b.m)).toEqual(flat(a.m));
    const c = model(6);
    await loadWeightsFrom(store, 'run-1.weights', c.m);
    expect(flat(c.m)).toEqual(flat(a.m));
    await expect(loadCheckpointFrom(store, 'absent', { model: b.m })).rejects.toThrow(/there is no 'absent' in the map store; nothing was loaded/);
    for (const bad of ['../x', 'a/b', '', '..', 'a\\b', 'x\u0000']) {
      await expect(saveWeightsTo(store, bad, a.m)).rejects.toThrow(/saveWeightsTo: (key|a key)/);
    }
    expect([...store.map.keys()].sort()).toEqual(['run-1', 'run-1.weights']);
  });

  it('checks options like everything else, and says where IndexedDB and OPFS are', async () => {
    const a = model(1);
    await expect(loadWeightsFrom(new Uint8Array(8), a.m, { max_bytes: 5 } as any)).rejects.toThrow(/loadWeightsFrom: unknown option 'max_bytes' \(did you mean 'maxBytes'\? tread's options are camelCase\)/);
    await expect(loadCheckpointFrom(new Uint8Array(8), { model: a.m, strcit: true } as any)).rejects.toThrow(/did you mean 'strict'/);
    expect(() => checkpointBytes({ model: a.m, optimiser: a.opt } as any)).toThrow(/did you mean 'optimizer'/);
    await expect(readBytes(new Uint8Array(8), { maxBytes: -1 })).rejects.toThrow(/readBytes: maxBytes must be >= 0/);
    await expect(readBytes('a string' as any)).rejects.toThrow(/expected a File, Blob, Response, ArrayBuffer or typed array, got string/);
    await expect(tread.data.fetchMnist('http://127.0.0.1:1/', { max_bytes: 1 } as any)).rejects.toThrow(/fetchMnist: unknown option 'max_bytes' \(did you mean 'maxBytes'/);
    expect(() => tread.data.mnistFromDigitBytes([], { scal: 1 } as any)).toThrow(/mnistFromDigitBytes: unknown option 'scal' \(did you mean 'scale'/);
    expect(() => indexedDBStore()).toThrow(/IndexedDB is not available here/);
    expect(() => opfsStore()).toThrow(/origin private file system is not available here/);
  });
});
