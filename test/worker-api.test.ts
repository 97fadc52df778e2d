/**
 * The Worker training API (ts/worker) and fit's yieldEvery, in Node: serveTraining and
 * TrainingWorker talk over a MessageChannel exactly as a page and a Worker do (the same
 * structured clone and transfer), here on one thread, which is the hardest case for
 * yielding: a message can only arrive while fit() gives the event loop a turn.
 * test/demo.test.ts drives the same API with a real Worker in Chromium.
 */
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { beforeAll, describe, expect, it } from 'vitest';
import * as tread from '../ts/index.js';
import { fit } from '../ts/train/fit.js';
import { CheckpointError } from '../ts/train/checkpoint.js';
import { loadCheckpointFrom, loadWeightsFrom } from '../ts/train/browser_checkpoint.js';
import { serveTraining, type TrainingSetup } from '../ts/worker/host.js';
import { TrainingWorker } from '../ts/worker/client.js';
import type { BatchProgress, Endpoint, EpochProgress } from '../ts/worker/protocol.js';

const { nn, optim, data } = tread;

beforeAll(async () => {
  await tread.init({ threads: 1 });
});

interface Config {
  epochs: number;
  seed?: number;
  fail?: string;
  badEpochs?: boolean;
}

function build(config: Config): TrainingSetup {
  if (config.fail) throw new Error(config.fail);
  nn.manualSeed(config.seed ?? 0);
  const all = data.gaussianBlobs({ n: 240, centers: 3, dims: 4, std: 1.5, seed: 5 });
  const [trainSet, valSet] = data.randomSplit(all, [192, 48], { seed: 2 });
  const model = new nn.Sequential(new nn.Linear(4, 16), new nn.ReLU(), new nn.Linear(16, 3));
  const optimizer = new optim.SGD(model.parameters(), { lr: 0.05, momentum: 0.9 });
  return {
    model,
    fit: {
      train: new data.DataLoader(trainSet, { batchSize: 16, shuffle: true, seed: 3 }),
      val: new data.DataLoader(valSet, { batchSize: 48 }),
      optimizer,
      lossFn: new nn.CrossEntropyLoss(),
      epochs: config.badEpochs ? -1 : config.epochs,
      metrics: ['accuracy'],
      callbacks: [new tread.Monitor({ probeSize: 32 })],
    },
    epochExtras: (ctx) => ({ epochSeen: ctx.epoch }),
  };
}

const BATCHES = 192 / 16;

function pair(): { trainer: TrainingWorker<Config>; close: () => void } {
  const ch = new MessageChannel();
  const stop = serveTraining<Config>(build, { endpoint: ch.port1 as unknown as Endpoint });
  const trainer = new TrainingWorker<Config>(ch.port2 as unknown as Endpoint);
  return {
    trainer,
    close: () => {
      stop();
      (ch.port1 as MessagePort).close();
      (ch.port2 as MessagePort).close();
    },
  };
}

function flatWeights(model: { stateDict(): Map<string, tread.Tensor> | Record<string, tread.Tensor> }): number[] {
  const sd = model.stateDict();
  const entries = sd instanceof Map ? [...sd.values()] : Object.values(sd);
  return entries.flatMap((t) => Array.from(t.toArray()));
}

describe('fit yieldEvery', () => {
  /** The batches done when the message arrived, or 'after' when it arrived only after fit() returned. */
  async function arrivalBatch(yieldEvery: unknown): Promise<number | 'after' | null> {
    const s = build({ epochs: 2 });
    const ch = new MessageChannel();
    let batchesDone = 0;
    let finished = false;
    let arrivedAt: number | 'after' | null = null;
    ch.port2.on('message', () => (arrivedAt = finished ? 'after' : batchesDone));
    ch.port1.postMessage('stop?');
    await fit(s.model, { ...s.fit, callbacks: [{ onBatchEnd: () => void batchesDone++ }], yieldEvery: yieldEvery as any });
    finished = true;
    await new Promise((r) => setTimeout(r, 20));
    ch.port1.close();
    return arrivedAt;
  }

  it("lets a message posted before fit() in after the first batch with 'batch' or 0 ms, only after the run with 'never'", async () => {
    // Node hands a MessagePort message over within one or two event-loop turns.
    const batch = await arrivalBatch('batch');
    expect(batch).toBeGreaterThanOrEqual(1);
    expect(batch).toBeLessThanOrEqual(2);
    const zero = await arrivalBatch(0);
    expect(zero).toBeGreaterThanOrEqual(1);
    expect(zero).toBeLessThanOrEqual(2);
    const epoch = await arrivalBatch('epoch');
    expect([BATCHES, 2 * BATCHES]).toContain(epoch);
    expect(await arrivalBatch('never')).toBe('after');
  });

  it('checks the option', async () => {
    const s = build({ epochs: 1 });
    await expect(fit(s.model, { ...s.fit, yieldEvery: 'sometimes' as any })).rejects.toThrow(/fit: yieldEvery must be one of 'auto', 'batch', 'epoch', 'never', got "sometimes"/);
    await expect(fit(s.model, { ...s.fit, yieldEvery: -1 })).rejects.toThrow(/fit: yieldEvery must be >= 0, got -1/);
  });
});

describe('TrainingWorker + serveTraining', () => {
  it('reports every batch and epoch, and trains exactly as fit() does in place', async () => {
    const { trainer, close } = pair();
    const batches: BatchProgress[] = [];
    const epochs: EpochProgress[] = [];
    const states: string[] = [];
    trainer.on('batch', (p) => batches.push(p));
    trainer.on('epoch', (p) => epochs.push(p));
    trainer.on('state', (s) => states.push(s.state));
    const summary = await trainer.start({ epochs: 3 });
    expect(summary.epoch).toBe(3);
    expect(summary.globalStep).toBe(3 * BATCHES);
    expect(summary.stopReason).toBe(null);
    expect(batches.length).toBe(3 * BATCHES);
    expect(batches.map((b) => b.globalStep)).toEqual(Array.from({ length: 3 * BATCHES }, (_, i) => i + 1));
    for (const b of batches) {
      expect(Number.isFinite(b.loss)).toBe(true);
      expect(b.lr).toBe(0.05);
      expect(b.accuracy).toBeGreaterThanOrEqual(0);
      expect(b.accuracy).toBeLessThanOrEqual(1);
      expect(b.batchesPerEpoch).toBe(BATCHES);
    }
    expect(epochs.map((e) => e.epoch)).toEqual([0, 1, 2]);
    expect(epochs.map((e) => e.extra)).toEqual([{ epochSeen: 0 }, { epochSeen: 1 }, { epochSeen: 2 }]);
    const logs = epochs[2]!.logs;
    expect(logs.val_accuracy).toBeGreaterThan(0.8);
    expect(Object.keys(logs)).toEqual(expect.arrayContaining(['loss', 'accuracy', 'val_loss', 'lr', 'update_ratio/0.weight', 'grad_norm/2.weight', 'act_mean/1']));
    expect(summary.history.map((h) => h.val_accuracy)).toEqual(epochs.map((e) => e.logs.val_accuracy));
    expect(states).toEqual(['setting-up', 'running', 'finished']);

    // The reference: the same setup trained by fit() directly, no Worker API in between.
    const ref = build({ epochs: 3 });
    const refResult = await fit(ref.model, ref.fit);
    expect(refResult.history.series('loss')).toEqual(summary.history.map((h) => h.loss));
    // The diagnosis and the held epoch come back as plain data, equal to fit()'s own.
    expect(summary.findings).toEqual(JSON.parse(JSON.stringify(refResult.findings)));
    expect(summary.primaryCause?.kind ?? null).toBe(refResult.primaryCause?.kind ?? null);
    expect(summary.best?.epoch).toBe(refResult.best?.epoch);

    // Weights come back as safetensors bytes; loaded into the reference model they give
    // the worker model's own predictions.
    const bytes = await trainer.weights();
    expect(bytes).toBeInstanceOf(Uint8Array);
    const check = build({ epochs: 1, seed: 99 });
    await loadWeightsFrom(bytes, check.model);
    expect(flatWeights(check.model)).toEqual(flatWeights(ref.model));
    const x = Float32Array.from({ length: 8 }, (_, i) => Math.sin(i));
    const fromWorker = await trainer.predict(x.slice(), [2, 4]);
    check.model.eval();
    const local = tread.noGrad(() => check.model.forward(tread.tensor(x, [2, 4])).toArray());
    expect(fromWorker.shape).toEqual([2, 3]);
    expect(Array.from(fromWorker.data)).toEqual(Array.from(local));

    // A checkpoint: weights, optimizer state and the epochs completed.
    const ck = await trainer.checkpoint();
    const restored = build({ epochs: 1, seed: 7 });
    const loaded = await loadCheckpointFrom(ck, { model: restored.model, optimizer: restored.fit.optimizer });
    expect(loaded.training.epoch).toBe(3);
    expect(loaded.training.globalStep).toBe(3 * BATCHES);
    expect(flatWeights(restored.model)).toEqual(flatWeights(ref.model));
    close();
  });

  it('stops within a batch of the request, also while paused, and a pause holds training until resume', async () => {
    const { trainer, close } = pair();
    let afterStop = 0;
    let stopped = false;
    trainer.on('batch', (p) => {
      if (stopped) afterStop++;
      if (p.globalStep === 3 && !stopped) {
        stopped = true;
        trainer.stop('enough');
      }
    });
    const summary = await trainer.start({ epochs: 50 });
    expect(summary.stopReason).toBe('enough');
    // The batch running when the message arrived may finish; nothing after it.
    expect(afterStop).toBeLessThanOrEqual(1);
    expect(summary.globalStep).toBeLessThanOrEqual(4);
    close();

    // Pause after a batch, check that nothing moves, resume: the run ends with the weights of
    // an uninterrupted run.
    const p2 = pair();
    const seen: number[] = [];
    let pausedAt = -1;
    let resolvePaused!: () => void;
    const pausedPromise = new Promise<void>((r) => (resolvePaused = r));
    p2.trainer.on('batch', (p) => {
      seen.push(p.globalStep);
      if (p.globalStep === 5) p2.trainer.pause();
    });
    p2.trainer.on('state', (s) => {
      if (s.state === 'paused') {
        pausedAt = seen.length;
        resolvePaused();
      }
    });
    const run = p2.trainer.start({ epochs: 2 });
    await pausedPromise;
    expect(pausedAt).toBeLessThanOrEqual(6);
    await new Promise((r) => setTimeout(r, 150));
    expect(seen.length).toBe(pausedAt); // no batch while paused
    // Requests are answered while paused.
    expect((await p2.trainer.weights()).length).toBeGreaterThan(0);
    p2.trainer.resume();
    const s2 = await run;
    expect(s2.globalStep).toBe(2 * BATCHES);
    const ref = build({ epochs: 2 });
    await fit(ref.model, ref.fit);
    const check = build({ epochs: 1, seed: 9 });
    await loadWeightsFrom(await p2.trainer.weights(), check.model);
    expect(flatWeights(check.model)).toEqual(flatWeights(ref.model));

    // A stop while paused ends the run without another batch.
    const n = seen.length;
    let pausedAgain!: () => void;
    const again = new Promise<void>((r) => (pausedAgain = r));
    p2.trainer.on('state', (s) => s.state === 'paused' && pausedAgain());
    const run3 = p2.trainer.start({ epochs: 5 });
    p2.trainer.pause();
    await again;
    const atPause = seen.length;
    p2.trainer.stop();
    const s3 = await run3;
    expect(s3.stopReason).toBe('stopped by the page');
    expect(seen.length).toBe(atPause);
    expect(seen.length - n).toBeLessThanOrEqual(1);
    p2.close();
  });

  it('sends errors back with their message, and refuses a second run at once', async () => {
    const { trainer, close } = pair();
    await expect(trainer.predict(new Float32Array(4), [1, 4])).rejects.toThrow(/TrainingWorker.predict: there is no model yet \(call start\(\) first\)/);
    await expect(trainer.start({ epochs: 1, fail: 'no data here' })).rejects.toThrow(/^no data here$/);
    await expect(trainer.start({ epochs: 1, badEpochs: true })).rejects.toThrow(/fit: epochs must be a non-negative integer, got -1/);
    const first = trainer.start({ epochs: 2 });
    await expect(trainer.start({ epochs: 1 })).rejects.toThrow(/a training run is already in progress/);
    await first;
    expect(() => trainer.predict(new Float32Array(3), [1, 4])).toThrow(/shape \[1, 4\] holds 4 values but data has 3/);
    await expect(trainer.predict(new Float32Array(6), [1, 6])).rejects.toThrow(/Linear/);
    expect(() => trainer.on('nope' as any, () => {})).toThrow(/unknown event 'nope'/);
    close();
  });

  it('checks its options', () => {
    expect(() => serveTraining(build, { endPoint: 1 } as any)).toThrow(/serveTraining: unknown option 'endPoint' \(did you mean 'endpoint'\?/);
    expect(() => new TrainingWorker({} as any)).toThrow(/expected a Worker/);
  });
});

describe('checkpoint bytes: same validation as files', () => {
  it('refuses corrupt bytes and leaves the model unchanged', async () => {
    const s = build({ epochs: 1 });
    const before = flatWeights(s.model);
    await expect(loadWeightsFrom(new Uint8Array([1, 2, 3]), s.model)).rejects.toThrow(CheckpointError);
    expect(flatWeights(s.model)).toEqual(before);
  });
});
