/**
 * Loading a checkpoint is all or nothing and validated (issue 11 item 4, issue 19 item 5):
 * a checkpoint whose training metadata, optimizer state or scheduler state is malformed is
 * refused with a CheckpointError that names the checkpoint and the bad value, and then every
 * byte of the model, the optimizer state, the scheduler state and the RNG is as before.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { init } from '../ts/runtime/wasm.js';
import { tensor } from '../ts/tensor/create.js';
import { Tensor } from '../ts/tensor/tensor.js';
import '../ts/ops/methods.js';
import * as nn from '../ts/nn/index.js';
import { getRngState, manualSeed, nextSeed } from '../ts/nn/random.js';
import { Adam } from '../ts/optim/index.js';
import { StepLR } from '../ts/optim/lr_scheduler/simple.js';
import { CheckpointError, fromJSONSafe, loadCheckpoint, loadWeights, saveCheckpoint, saveWeights, toJSONSafe } from '../ts/train/checkpoint.js';
import { parseSafetensors, serializeSafetensors, type SafeTensorInput } from '../ts/train/safetensors.js';
import { resumeFrom } from '../ts/train/model_checkpoint.js';

const dir = mkdtempSync(join(tmpdir(), 'tread-ckpt-validate-'));

beforeAll(async () => {
  await init({ threads: 1 });
});

function setup() {
  manualSeed(3);
  const model = new nn.Sequential(new nn.Linear(3, 4), new nn.ReLU(), new nn.Linear(4, 2));
  const optimizer = new Adam(model.parameters(), { lr: 0.01 });
  const scheduler = new StepLR(optimizer, { stepSize: 2, gamma: 0.5 });
  const x = tensor(Float32Array.from({ length: 12 }, (_, i) => Math.sin(i)), [4, 3]);
  const step = () => {
    optimizer.zeroGrad();
    model.forward(x).mul(model.forward(x)).sum().backward();
    optimizer.step();
    scheduler.step();
  };
  return { model, optimizer, scheduler, step };
}

/** Every byte and number of the state a load could change. */
function fingerprint(s: ReturnType<typeof setup>): string {
  const tensors = (v: unknown): unknown =>
    v instanceof Tensor ? [...v.toArray()] : Array.isArray(v) ? v.map(tensors) : v && typeof v === 'object' ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, tensors(x)])) : v;
  return JSON.stringify({
    model: [...s.model.stateDict()].map(([n, t]) => [n, [...t.toArray()]]),
    optimizer: tensors(s.optimizer.stateDict()),
    scheduler: s.scheduler.stateDict(),
    rng: getRngState(),
  });
}

/** The checkpoint `file` rewritten with `edit` applied to its training and optimizer JSON. */
function rewrite(file: Uint8Array, name: string, edit: (training: any, optimizer: any) => void): string {
  const parsed = parseSafetensors(file);
  const training = fromJSONSafe(parsed.metadata['tread.training']);
  const optimizer = fromJSONSafe(parsed.metadata['tread.optimizer']);
  edit(training, optimizer);
  const tensors: [string, SafeTensorInput][] = [...parsed.tensors].map(([n, t]) => [n, { shape: t.shape, data: t.data, dtype: t.dtype as 'F32' | 'I32' | 'I64' }]);
  const out = join(dir, name);
  writeFileSync(out, serializeSafetensors(tensors, { ...parsed.metadata, 'tread.training': toJSONSafe(training), 'tread.optimizer': toJSONSafe(optimizer) }));
  return out;
}

describe('checkpoint loading is validated before anything changes', () => {
  it('refuses each malformed checkpoint with a CheckpointError, leaving model, optimizer, scheduler and RNG as they were', async () => {
    const s = setup();
    s.step();
    s.step();
    const file = join(dir, 'good.safetensors');
    await saveCheckpoint(file, {
      model: s.model,
      optimizer: s.optimizer,
      scheduler: s.scheduler,
      training: { epoch: 2, globalStep: 2, rng: { global: getRngState(), modules: {} }, history: [{ loss: 1.5, val_loss: 'NaN' as any }], earlyStopping: { best: 1, bestEpoch: 0, wait: 1, stoppedEpoch: -1 } },
    });
    const bytes = new Uint8Array(readFileSync(file));
    // Move everything away from the saved state, so that a partial load would show.
    s.step();
    s.step();
    nextSeed();

    const cases: [string, (t: any, o: any) => void, RegExp][] = [
      ['history not a list', (t) => (t.history = { loss: 1 }), /training\.history must be a list, got an object/],
      ['history value', (t) => (t.history[0].loss = 'abc'), /training\.history\[0\]\.loss must be a number/],
      ['rng module entry null', (t) => (t.rng.modules = { '0': null }), /training\.rng\.modules\['0'\] must be an object, got null/],
      ['rng global null', (t) => (t.rng.global = null), /training\.rng\.global must be a generator state, got null/],
      ['rng global seed', (t) => (t.rng.global.seed = 'x'), /training\.rng\.global\.seed must be an integer in 0\.\.4294967295, got "x"/],
      ['rng global counter', (t) => (t.rng.global.counter = -1), /training\.rng\.global\.counter must be an integer/],
      ['epoch string', (t) => (t.epoch = '2'), /training\.epoch must be an integer in 0\.\.\d+, got "2"/],
      ['epoch negative', (t) => (t.epoch = -3), /training\.epoch must be an integer in 0\.\.\d+, got -3/],
      ['globalStep fraction', (t) => (t.globalStep = 1.5), /training\.globalStep must be an integer/],
      ['early stopping wait', (t) => (t.earlyStopping.wait = -1), /training\.earlyStopping\.wait must be an integer/],
      ['scheduler lastEpoch', (t) => (t.scheduler.lastEpoch = 'x'), /training\.scheduler\.lastEpoch must be an integer in -1\.\./],
      ['scheduler baseLrs length', (t) => (t.scheduler.baseLrs = [0.1, 0.1]), /training\.scheduler\.baseLrs must be a list of 1 \(one per parameter group\)/],
      ['scheduler other class', (t) => (t.scheduler.scheduler = 'CosineAnnealingLR'), /training\.scheduler\.scheduler must be the state of a StepLR/],
      ['Adam step -1', (_t, o) => (o.state['0'].step = -1), /optimizer\.state\[0\]\.step must be an integer in 0\.\./],
      ['lr Infinity', (_t, o) => (o.paramGroups[0].lr = Infinity), /optimizer\.paramGroups\[0\]\.lr must be a finite number >= 0, got Infinity/],
      ['lr NaN', (_t, o) => (o.paramGroups[0].lr = NaN), /optimizer\.paramGroups\[0\]\.lr must be a finite number >= 0, got NaN/],
      ['weight decay negative', (_t, o) => (o.paramGroups[0].weightDecay = -1), /optimizer\.paramGroups\[0\]\.weightDecay must be a finite number >= 0, got -1/],
      ['betas Infinity', (_t, o) => (o.paramGroups[0].betas = [0.9, Infinity]), /optimizer\.paramGroups\[0\]\.betas\[1\] must be a finite number/],
      ['groups not a list', (_t, o) => (o.paramGroups = 5), /optimizer\.paramGroups must be a list, got 5/],
    ];
    const before = fingerprint(s);
    for (const [name, edit, message] of cases) {
      const bad = rewrite(bytes, `${name.replace(/ /g, '_')}.safetensors`, edit);
      let err: unknown;
      try {
        await loadCheckpoint(bad, { model: s.model, optimizer: s.optimizer, scheduler: s.scheduler });
      } catch (e) {
        err = e;
      }
      expect(err, name).toBeInstanceOf(CheckpointError);
      expect((err as Error).message, name).toMatch(message);
      expect((err as Error).message, name).toMatch(/^checkpoint '.*': .*nothing was loaded/);
      expect(fingerprint(s), name).toBe(before);
      // resumeFrom (which also restores the RNG) refuses the same way.
      await expect(resumeFrom(bad, { model: s.model, optimizer: s.optimizer, scheduler: s.scheduler }), name).rejects.toBeInstanceOf(CheckpointError);
      expect(fingerprint(s), name).toBe(before);
    }
    // The untouched file loads, and then the state is the saved one.
    const loaded = await loadCheckpoint(file, { model: s.model, optimizer: s.optimizer, scheduler: s.scheduler });
    expect(loaded.training.epoch).toBe(2);
    expect(fingerprint(s)).not.toBe(before);
  });

  it('refuses nested JSON in the metadata that would overflow the stack, and a key named twice there', async () => {
    const s = setup();
    const file = join(dir, 'deep.safetensors');
    await saveCheckpoint(file, { model: s.model, optimizer: s.optimizer });
    const parsed = parseSafetensors(new Uint8Array(readFileSync(file)));
    const tensors: [string, SafeTensorInput][] = [...parsed.tensors].map(([n, t]) => [n, { shape: t.shape, data: t.data, dtype: t.dtype as 'F32' | 'I32' | 'I64' }]);
    const write = (name: string, training: string) => {
      writeFileSync(join(dir, name), serializeSafetensors(tensors, { ...parsed.metadata, 'tread.training': training }));
      return join(dir, name);
    };
    const before = fingerprint(s);
    const deep = write('deep.safetensors', `{"epoch":0,"extra":${'['.repeat(100_000)}${']'.repeat(100_000)}}`);
    await expect(loadCheckpoint(deep, { model: s.model, optimizer: s.optimizer })).rejects.toThrow(/training state in __metadata__ is not valid JSON \(nesting deeper than 64 levels/);
    const twice = write('twice.safetensors', '{"epoch":1,"epoch":2}');
    await expect(loadCheckpoint(twice, { model: s.model, optimizer: s.optimizer })).rejects.toThrow(/not valid JSON \(duplicate key "epoch"/);
    expect(fingerprint(s)).toBe(before);
  });

  it('strict: false with no name in common fails instead of loading nothing silently', async () => {
    const s = setup();
    const other = new nn.Sequential(new nn.Linear(3, 4));
    const file = join(dir, 'other.safetensors');
    const renamed = new Map([...other.stateDict()].map(([n, t]) => [`encoder.${n}`, t]));
    await saveWeights(file, renamed);
    const before = fingerprint(s);
    await expect(loadWeights(file, s.model, { strict: false })).rejects.toThrow(
      /no tensor of the weights file '.*other\.safetensors' matches a name of the model, so even \{ strict: false \} loads nothing; nothing was loaded\.\n {2}weights file '.*': encoder\.0\.weight, encoder\.0\.bias\n {2}model: 0\.weight, 0\.bias, 2\.weight, 2\.bias/,
    );
    expect(fingerprint(s)).toBe(before);
    // Some names in common: those load, the rest is reported.
    const part = join(dir, 'part.safetensors');
    await saveWeights(part, other);
    const report = await loadWeights(part, s.model, { strict: false });
    expect(report.loaded).toEqual(['0.weight', '0.bias']);
    await expect(loadWeights(part, s.model, { strict: false, stric: true } as any)).rejects.toThrow(/loadWeights: unknown option 'stric' \(did you mean 'strict'/);
  });

  it('says "weights file" or "checkpoint" as the case is, and "cannot load" (not corrupt) for an F8 dtype', async () => {
    const s = setup();
    const header = new TextEncoder().encode('{"0.weight":{"dtype":"F8_E4M3","shape":[4,3],"data_offsets":[0,12]}}');
    const f8 = new Uint8Array(8 + header.length + 12);
    new DataView(f8.buffer).setBigUint64(0, BigInt(header.length), true);
    f8.set(header, 8);
    const file = join(dir, 'f8.safetensors');
    writeFileSync(file, f8);
    const weightsErr = (await loadWeights(file, s.model).catch((e) => e)) as Error;
    expect(weightsErr).toBeInstanceOf(CheckpointError);
    expect(weightsErr.message).toMatch(/^weights file '.*f8\.safetensors': tensor '0\.weight' has dtype F8_E4M3, a legal safetensors dtype that tread does not read .*\. The file is valid safetensors, but tread cannot load it; nothing was loaded\./);
    expect(weightsErr.message).not.toMatch(/corrupt/);
    const ckptErr = (await loadCheckpoint(file, { model: s.model }).catch((e) => e)) as Error;
    expect(ckptErr.message).toMatch(/^checkpoint '.*f8\.safetensors': tensor '0\.weight' has dtype F8_E4M3/);
    writeFileSync(join(dir, 'junk.safetensors'), new Uint8Array(4));
    await expect(loadWeights(join(dir, 'junk.safetensors'), s.model)).rejects.toThrow(/^weights file '.*': file is 4 bytes, .*The file is corrupt or not a safetensors file; nothing was loaded/);
  });
});
