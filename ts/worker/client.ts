/**
 * The page side: a typed handle on a Worker that runs serveTraining (host.ts).
 *
 *   const trainer = new tread.worker.TrainingWorker(new Worker('./train-worker.js', { type: 'module' }));
 *   trainer.on('batch', (p) => plot(p.loss, p.accuracy, p.lr));
 *   trainer.on('epoch', (p) => show(p.logs.val_accuracy, p.logs['update_ratio/0.weight']));
 *   const summary = await trainer.start({ epochs: 5 });     // resolves when fit() returns
 *   trainer.pause(); trainer.resume(); trainer.stop();      // take effect after the batch in progress
 *   const bytes = await trainer.weights();                  // safetensors, transferred (no copy)
 *   await tread.train.saveCheckpointTo(tread.train.indexedDBStore(), 'digits', ...) // or downloadBytes(bytes, 'model.safetensors')
 *
 * A failed start, request or setup rejects with an Error carrying the Worker's message; an
 * uncaught error in the Worker rejects everything pending and is emitted as 'error'.
 * This file has no tread imports beyond types: a page can use it without loading wasm.
 */
import { checkOptions } from '../util/options.js';
import type { RuntimeInfo } from '../runtime/wasm.js';
import { TAG, type BatchProgress, type Endpoint, type EpochProgress, type FromWorker, type SerializedError, type ToWorker, type TrainingState, type TrainingSummary } from './protocol.js';

export interface TrainingEvents {
  batch: BatchProgress;
  epoch: EpochProgress;
  state: { state: TrainingState; runtime: RuntimeInfo | null };
  warning: string;
  error: Error;
}

export interface Prediction {
  data: Float32Array;
  shape: number[];
}

type Listener<T> = (value: T) => void;
type Pending = { resolve: (v: any) => void; reject: (e: Error) => void };

function toError(e: SerializedError): Error {
  const err = new Error(e.message);
  err.name = e.name;
  if (e.stack) err.stack = `${e.name}: ${e.message}\n    (in the Worker)\n${e.stack.split('\n').slice(1).join('\n')}`;
  return err;
}

export class TrainingWorker<Config = unknown> {
  private readonly endpoint: Endpoint;
  private readonly listeners: { [K in keyof TrainingEvents]: Set<Listener<TrainingEvents[K]>> } = {
    batch: new Set(),
    epoch: new Set(),
    state: new Set(),
    warning: new Set(),
    error: new Set(),
  };
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private readonly readyPromise: Promise<void>;
  private markReady!: () => void;
  private lastState: TrainingState = 'idle';
  private lastRuntime: RuntimeInfo | null = null;

  /** `worker`: a Worker running serveTraining, or any Endpoint (a MessagePort). */
  constructor(worker: Endpoint, options: Record<string, never> = {}) {
    checkOptions('TrainingWorker', options, []);
    if (!worker || typeof worker.postMessage !== 'function' || typeof worker.addEventListener !== 'function') {
      throw new TypeError('TrainingWorker: expected a Worker (or a MessagePort) running tread.worker.serveTraining');
    }
    this.endpoint = worker;
    this.readyPromise = new Promise((r) => (this.markReady = r));
    worker.addEventListener('message', (e) => this.onMessage(e));
    // A Worker's uncaught errors (a failed import, a throw at top level).
    const errorTarget = worker as unknown as { addEventListener(t: 'error', l: (e: ErrorEvent) => void): void };
    errorTarget.addEventListener('error', (e: ErrorEvent) => {
      e.preventDefault?.();
      this.fail(new Error(`TrainingWorker: the Worker failed: ${e.message ?? 'unknown error'}${e.filename ? ` (${e.filename}:${e.lineno})` : ''}`));
    });
    worker.start?.();
  }

  /** Subscribes to an event; returns the function that unsubscribes. */
  on<K extends keyof TrainingEvents>(type: K, listener: Listener<TrainingEvents[K]>): () => void {
    const set = this.listeners[type] as Set<Listener<TrainingEvents[K]>> | undefined;
    if (!set) throw new Error(`TrainingWorker.on: unknown event '${String(type)}'; known: ${Object.keys(this.listeners).join(', ')}`);
    set.add(listener);
    return () => set.delete(listener);
  }

  /** Resolves once the Worker's serveTraining listens. */
  ready(): Promise<void> {
    return this.readyPromise;
  }

  /** The last state the Worker reported, and its runtime (threads, variant) once initialised. */
  get state(): TrainingState {
    return this.lastState;
  }
  get runtime(): RuntimeInfo | null {
    return this.lastRuntime;
  }

  /** Runs the Worker's setup with `config`, then fit(); resolves with fit's result. */
  start(config: Config): Promise<TrainingSummary> {
    return this.request<TrainingSummary>({ type: 'start', config });
  }

  /** Ends training after the batch in progress (also while paused). */
  stop(reason?: string): void {
    this.post({ type: 'stop', reason });
  }

  /** Holds training after the batch in progress, until resume() or stop(). */
  pause(): void {
    this.post({ type: 'pause' });
  }

  resume(): void {
    this.post({ type: 'resume' });
  }

  /** The model's weights now, as safetensors bytes (PyTorch state-dict names). */
  weights(): Promise<Uint8Array> {
    return this.request<Uint8Array>({ type: 'weights' });
  }

  /** A checkpoint now (model, optimizer, scheduler, epochs completed), as safetensors bytes. */
  checkpoint(): Promise<Uint8Array> {
    return this.request<Uint8Array>({ type: 'checkpoint' });
  }

  /** Runs the model (eval mode, no graph) on one input batch. `data` is transferred. */
  predict(data: Float32Array, shape: readonly number[]): Promise<Prediction> {
    if (!(data instanceof Float32Array)) throw new TypeError('TrainingWorker.predict: data must be a Float32Array');
    const n = shape.reduce((a, b) => a * b, 1);
    if (!shape.every((d) => Number.isInteger(d) && d >= 0) || n !== data.length) {
      throw new Error(`TrainingWorker.predict: shape [${shape.join(', ')}] holds ${n} values but data has ${data.length}`);
    }
    return this.request<Prediction>({ type: 'predict', data, shape: [...shape] }, [data.buffer as ArrayBuffer]);
  }

  /** Ends the Worker (when it is one); pending requests reject. */
  terminate(): void {
    (this.endpoint as unknown as { terminate?: () => void; close?: () => void }).terminate?.();
    (this.endpoint as unknown as { close?: () => void }).close?.();
    this.fail(new Error('TrainingWorker: terminated'));
  }

  private post(m: ToWorker, transfer: ArrayBuffer[] = []): void {
    // Messages wait for 'ready': one sent before the Worker's module has run would be lost.
    this.readyPromise.then(() => this.endpoint.postMessage({ tag: TAG, ...m }, transfer));
  }

  private request<T>(m: DistributiveOmit<ToWorker, 'id'>, transfer: ArrayBuffer[] = []): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.post({ ...m, id } as ToWorker, transfer);
    });
  }

  private emit<K extends keyof TrainingEvents>(type: K, value: TrainingEvents[K]): void {
    for (const l of this.listeners[type]) (l as Listener<TrainingEvents[K]>)(value);
  }

  private fail(err: Error): void {
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
    this.emit('error', err);
  }

  private onMessage(e: MessageEvent): void {
    const m = e.data as FromWorker & { tag?: string };
    if (!m || m.tag !== TAG) return;
    switch (m.type) {
      case 'ready':
        this.markReady();
        break;
      case 'batch':
        this.emit('batch', m.progress);
        break;
      case 'epoch':
        this.emit('epoch', m.progress);
        break;
      case 'state':
        this.lastState = m.state;
        this.lastRuntime = m.runtime;
        this.emit('state', { state: m.state, runtime: m.runtime });
        break;
      case 'warning':
        this.emit('warning', m.message);
        break;
      case 'reply': {
        const p = this.pending.get(m.id);
        if (!p) return;
        this.pending.delete(m.id);
        if (m.ok) p.resolve(m.value);
        else p.reject(toError(m.error));
        break;
      }
    }
  }
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
