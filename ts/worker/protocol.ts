/**
 * The messages between a page (TrainingWorker, client.ts) and a Worker that trains
 * (serveTraining, host.ts). Everything here is structured-cloneable; weights and
 * checkpoints travel as safetensors bytes whose ArrayBuffer is transferred, not copied.
 */
import type { Finding } from '../train/diagnosis/finding.js';
import type { RuntimeInfo } from '../runtime/wasm.js';
import type { EpochLogs } from '../train/callbacks.js';
import type { NonFiniteReport } from '../train/fit.js';

/** What postMessage/addEventListener a Worker, `self` in a Worker, or a MessagePort offer. */
export interface Endpoint {
  /** (Transfer lists hold ArrayBuffers here; `Transferable` is a DOM type a Node project may lack.) */
  postMessage(message: unknown, transfer?: ArrayBuffer[]): void;
  addEventListener(type: 'message', listener: (event: MessageEvent) => void): void;
  removeEventListener?(type: 'message', listener: (event: MessageEvent) => void): void;
  /** MessagePorts only deliver to addEventListener listeners after start(). */
  start?(): void;
}

/** Sent after every batch (or every `batchEvery` batches). */
export interface BatchProgress {
  epoch: number;
  /** Batch index within the epoch (0-based). */
  batch: number;
  batchesPerEpoch: number | null;
  /** Optimizer steps taken so far. */
  globalStep: number;
  /** This batch's loss (with L1/L2 penalties when fit adds them). */
  loss: number;
  /** Learning rate of the first parameter group, after this batch's scheduler step. */
  lr: number;
  batchSize: number;
  /** Accuracy on this batch for classification outputs ([N, C] against class indices), else null. */
  accuracy: number | null;
}

/** Sent after every epoch. */
export interface EpochProgress {
  epoch: number;
  epochs: number;
  /** The epoch's logs: loss, metrics, val_*, lr, and a Monitor's statistics (grad_norm/*, update_ratio/*, act_*). */
  logs: EpochLogs;
  /** Whatever the setup's `epochExtras` returned (e.g. misclassified samples). */
  extra: unknown;
  /** Seconds since training started. */
  seconds: number;
}

/** What start() resolves to: fit's result, in cloneable form. */
export type { Finding };

export interface TrainingSummary {
  epoch: number;
  globalStep: number;
  stopReason: string | null;
  warnings: string[];
  nonFinite: NonFiniteReport | null;
  seconds: number;
  history: Record<string, number | string>[];
  /** The diagnosis (fit's result.findings / primaryCause), plain JSON. */
  findings: Finding[];
  primaryCause: Finding | null;
  /** The epoch whose weights the model holds (fit's result.best). */
  best: { epoch: number; restored: boolean; logs: Record<string, number> } | null;
}

export type TrainingState = 'idle' | 'setting-up' | 'running' | 'paused' | 'finished';

export interface SerializedError {
  name: string;
  message: string;
  stack?: string;
}

export type ToWorker =
  | { type: 'start'; id: number; config: unknown }
  | { type: 'stop'; reason?: string }
  | { type: 'pause' }
  | { type: 'resume' }
  | { type: 'weights'; id: number }
  | { type: 'checkpoint'; id: number }
  | { type: 'predict'; id: number; data: Float32Array; shape: number[] };

export type FromWorker =
  | { type: 'ready' }
  | { type: 'batch'; progress: BatchProgress }
  | { type: 'epoch'; progress: EpochProgress }
  | { type: 'state'; state: TrainingState; runtime: RuntimeInfo | null }
  | { type: 'warning'; message: string }
  | { type: 'reply'; id: number; ok: true; value: unknown }
  | { type: 'reply'; id: number; ok: false; error: SerializedError };

/** Marks messages as tread's, so a Worker can carry other traffic beside. */
export const TAG = 'tread.worker/1';

export function serializeError(e: unknown): SerializedError {
  if (e instanceof Error) return { name: e.name, message: e.message, stack: e.stack };
  return { name: 'Error', message: String(e) };
}
