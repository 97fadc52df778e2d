/**
 * The Worker side: `serveTraining(setup)` answers a page's TrainingWorker.
 *
 *   // train-worker.js (new Worker(url, { type: 'module' }))
 *   import * as tread from 'tread';
 *   tread.worker.serveTraining(async (config) => {
 *     await tread.init();                        // threads when the page is cross-origin isolated
 *     const model = ...; const optimizer = ...;
 *     return { model, fit: { train, val, optimizer, lossFn, epochs: config.epochs, metrics: ['accuracy'] } };
 *   });
 *
 * While fit() runs, the Worker takes messages between batches: this file's callback gives
 * the event loop one macrotask turn at the end of every batch (a few microseconds), so a
 * stop ends training before the next batch and a pause holds it there until resume.
 * Progress goes out as messages per batch and per epoch; errors go back with their message.
 */
import { noGrad } from '../autograd/engine.js';
import { runtimeInfo, type RuntimeInfo } from '../runtime/wasm.js';
import { tensor } from '../tensor/create.js';
import { tidy } from '../tensor/lifetime.js';
import type { Tensor } from '../tensor/tensor.js';
import { encodeCheckpoint } from '../train/checkpoint.js';
import { weightsBytes } from '../train/browser_checkpoint.js';
import type { Callback, TrainContext } from '../train/callbacks.js';
import { fit, type FitOptions } from '../train/fit.js';
import type { ModuleLike } from '../train/types.js';
import { nextMacrotask } from '../train/yield.js';
import { checkNumberOption, checkOptions } from '../util/options.js';
import { serializeError, TAG, type BatchProgress, type Endpoint, type FromWorker, type ToWorker, type TrainingState, type TrainingSummary } from './protocol.js';

/** What a setup function returns: the model and fit()'s options (callbacks allowed). */
export interface TrainingSetup {
  model: ModuleLike;
  fit: FitOptions;
  /** Send a batch event every n batches (default 1). */
  batchEvery?: number;
  /** Called after each epoch (awaited); its (cloneable) result is sent as the epoch event's `extra`. */
  epochExtras?: (ctx: TrainContext) => unknown | Promise<unknown>;
}

export type SetupFn<Config = any> = (config: Config) => TrainingSetup | Promise<TrainingSetup>;

export interface ServeOptions {
  /** Where messages come from and go to (default: the Worker's global scope, `self`). */
  endpoint?: Endpoint;
}

const SETUP_KEYS = ['model', 'fit', 'batchEvery', 'epochExtras'] as const;

function runtimeOrNull(): RuntimeInfo | null {
  try {
    return runtimeInfo();
  } catch {
    return null;
  }
}

/** Accuracy of one batch when the output is [N, C] scores and the target N class indices. */
function batchAccuracy(out: Tensor | null, y: Tensor | null): number | null {
  if (!out || !y || out.ndim !== 2 || y.ndim !== 1 || y.dtype !== 'int32' || y.shape[0] !== out.shape[0] || out.isFreed) return null;
  const [n, c] = out.shape as [number, number];
  const o = out.f32;
  const t = y.data;
  let right = 0;
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let j = 1; j < c; j++) if (o[i * c + j]! > o[i * c + best]!) best = j;
    if (best === t[i]) right++;
  }
  return n > 0 ? right / n : null;
}

/**
 * Serves training requests on `endpoint` (default: this Worker). Returns a function that
 * stops listening. One training run at a time; the model of the last run stays for
 * weights(), checkpoint() and predict().
 */
export function serveTraining<Config = any>(setup: SetupFn<Config>, options: ServeOptions = {}): () => void {
  checkOptions('serveTraining', options, ['endpoint']);
  if (typeof setup !== 'function') throw new TypeError('serveTraining: setup must be a function (config) => { model, fit }');
  const endpoint = options.endpoint ?? (globalThis as unknown as Endpoint);
  if (typeof endpoint?.postMessage !== 'function' || typeof endpoint.addEventListener !== 'function') {
    throw new Error('serveTraining: no endpoint: call it inside a Worker, or pass { endpoint } (a MessagePort)');
  }

  let state: TrainingState = 'idle';
  let current: TrainingSetup | null = null;
  let ctxRef: TrainContext | null = null;
  let stopRequest: string | null = null;
  let paused = false;
  // Epochs completed and steps taken: what a checkpoint records (its weights are those of now).
  let reached = { epoch: 0, globalStep: 0 };
  let wake: (() => void) | null = null;

  const send = (m: FromWorker, transfer: ArrayBuffer[] = []) => endpoint.postMessage({ tag: TAG, ...m }, transfer);
  const setState = (s: TrainingState) => {
    state = s;
    send({ type: 'state', state: s, runtime: runtimeOrNull() });
  };
  const reply = (id: number, work: () => unknown | Promise<unknown>, transfer: (v: any) => ArrayBuffer[] = () => []) => {
    Promise.resolve()
      .then(work)
      .then(
        (value) => send({ type: 'reply', id, ok: true, value }, transfer(value)),
        (e) => send({ type: 'reply', id, ok: false, error: serializeError(e) }),
      );
  };
  const needModel = (what: string): TrainingSetup => {
    if (!current) throw new Error(`TrainingWorker.${what}: there is no model yet (call start() first)`);
    return current;
  };
  const wakeUp = () => {
    const w = wake;
    wake = null;
    w?.();
  };

  const bridge = (s: TrainingSetup, t0: number): Callback => {
    const every = s.batchEvery ?? 1;
    return {
      onTrainBegin(ctx) {
        ctxRef = ctx;
        if (stopRequest !== null) ctx.stop(stopRequest);
      },
      async onBatchEnd(ctx) {
        if ((ctx.batch + 1) % every === 0) {
          const p: BatchProgress = {
            epoch: ctx.epoch,
            batch: ctx.batch,
            batchesPerEpoch: ctx.batchesPerEpoch,
            globalStep: ctx.globalStep,
            loss: ctx.loss,
            lr: ctx.optimizer.paramGroups[0]?.lr ?? NaN,
            batchSize: ctx.batchSize,
            accuracy: batchAccuracy(ctx.output, ctx.target),
          };
          send({ type: 'batch', progress: p });
        }
        // Let stop/pause/weights/predict messages in, then hold here while paused.
        await nextMacrotask();
        if (paused && !ctx.stopTraining) {
          setState('paused');
          while (paused && !ctx.stopTraining) await new Promise<void>((r) => (wake = r));
          if (!ctx.stopTraining) setState('running');
        }
      },
      async onEpochEnd(ctx) {
        reached = { epoch: ctx.epoch + 1, globalStep: ctx.globalStep };
        const extra = s.epochExtras ? await s.epochExtras(ctx) : null;
        send({ type: 'epoch', progress: { epoch: ctx.epoch, epochs: ctx.epochs, logs: { ...ctx.logs }, extra, seconds: (performance.now() - t0) / 1000 } });
      },
    };
  };

  const start = async (config: unknown): Promise<TrainingSummary> => {
    if (state === 'setting-up' || state === 'running' || state === 'paused') throw new Error('TrainingWorker.start: a training run is already in progress (stop it first)');
    stopRequest = null;
    paused = false;
    ctxRef = null;
    reached = { epoch: 0, globalStep: 0 };
    setState('setting-up');
    try {
      const s = await setup(config as Config);
      checkOptions('serveTraining setup result', s, SETUP_KEYS, 'key');
      if (!s || !s.model || typeof s.model.forward !== 'function') throw new Error('serveTraining: setup must return { model, fit }, with a model');
      if (!s.fit || typeof s.fit !== 'object') throw new Error('serveTraining: setup must return { model, fit }, with fit() options');
      if (s.batchEvery !== undefined) checkNumberOption('serveTraining', 'batchEvery', s.batchEvery, { min: 1, integer: true });
      current = s;
      const t0 = performance.now();
      setState('running');
      const userWarning = s.fit.onWarning;
      const onWarning = (message: string) => {
        userWarning?.(message);
        send({ type: 'warning', message });
      };
      const fitOptions: FitOptions = { ...s.fit, onWarning, callbacks: [...(s.fit.callbacks ?? []), bridge(s, t0)] };
      const r = await fit(s.model, fitOptions);
      reached = { epoch: r.epoch, globalStep: r.globalStep };
      return {
        epoch: r.epoch, globalStep: r.globalStep, stopReason: r.stopReason, warnings: r.warnings, nonFinite: r.nonFinite, seconds: r.seconds, history: r.history.toJSON(),
        findings: r.findings, primaryCause: r.primaryCause,
        best: r.best ? { epoch: r.best.epoch, restored: !!r.best.restored, logs: { ...r.best.logs } } : null,
      };
    } finally {
      ctxRef = null;
      paused = false;
      setState(current ? 'finished' : 'idle');
    }
  };

  const predict = (data: Float32Array, shape: number[]) => {
    const { model } = needModel('predict');
    if (!(data instanceof Float32Array) || !Array.isArray(shape)) throw new TypeError('TrainingWorker.predict: expected a Float32Array and a shape');
    const wasTraining = model.training ?? true;
    model.eval();
    try {
      return tidy(() =>
        noGrad(() => {
          const out = model.forward(tensor(data, shape));
          return { data: out.f32.slice(), shape: [...out.shape] };
        }),
      );
    } finally {
      if (wasTraining) model.train(true);
    }
  };

  const onMessage = (event: MessageEvent) => {
    const m = event.data as ToWorker & { tag?: string };
    if (!m || m.tag !== TAG) return;
    switch (m.type) {
      case 'start':
        reply(m.id, () => start(m.config));
        break;
      case 'stop':
        stopRequest = m.reason ?? 'stopped by the page';
        ctxRef?.stop(stopRequest);
        paused = false;
        wakeUp();
        break;
      case 'pause':
        if (state === 'running' || state === 'setting-up') paused = true;
        break;
      case 'resume':
        paused = false;
        wakeUp();
        break;
      case 'weights':
        reply(m.id, () => weightsBytes(needModel('weights').model), (b: Uint8Array) => [b.buffer as ArrayBuffer]);
        break;
      case 'checkpoint':
        reply(
          m.id,
          () => {
            const s = needModel('checkpoint');
            return encodeCheckpoint({ model: s.model, optimizer: s.fit.optimizer, scheduler: s.fit.scheduler ?? null, training: { ...reached } });
          },
          (b: Uint8Array) => [b.buffer as ArrayBuffer],
        );
        break;
      case 'predict':
        reply(m.id, () => predict(m.data, m.shape), (v: { data: Float32Array }) => [v.data.buffer as ArrayBuffer]);
        break;
    }
  };
  endpoint.addEventListener('message', onMessage);
  endpoint.start?.();
  send({ type: 'ready' });
  return () => endpoint.removeEventListener?.('message', onMessage);
}
