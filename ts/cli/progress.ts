/**
 * A progress bar for training: batches done, running loss, throughput and ETA. On a TTY it
 * redraws one line; otherwise (logs, CI, pipes) it prints a plain line every ~20% of an epoch.
 */
import type { Callback, TrainContext } from '../train/callbacks.js';

export interface ProgressOptions {
  stream?: NodeJS.WriteStream;
  /** Force TTY or plain output (default: stream.isTTY). */
  tty?: boolean;
  /** Bar width in characters (default 24). */
  width?: number;
}

export function formatDuration(s: number): string {
  if (!Number.isFinite(s)) return '?';
  if (s < 60) return `${s.toFixed(s < 10 ? 1 : 0)}s`;
  const m = Math.floor(s / 60);
  const r = Math.round(s % 60);
  if (m < 60) return `${m}m${String(r).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

export class ProgressBar implements Callback {
  private readonly stream: NodeJS.WriteStream;
  private readonly tty: boolean;
  private readonly width: number;
  private epochStart = 0;
  private samples = 0;
  private lossSum = 0;
  private lossN = 0;
  private lastDraw = 0;
  private nextPlain = 0.2;
  private drawn = false;

  constructor(options: ProgressOptions = {}) {
    this.stream = options.stream ?? process.stdout;
    this.tty = options.tty ?? !!this.stream.isTTY;
    this.width = options.width ?? 24;
  }

  onEpochBegin(): void {
    this.epochStart = performance.now();
    this.samples = 0;
    this.lossSum = 0;
    this.lossN = 0;
    this.lastDraw = 0;
    this.nextPlain = 0.2;
  }

  onBatchEnd(ctx: TrainContext): void {
    this.samples += ctx.batchSize;
    if (Number.isFinite(ctx.loss)) {
      this.lossSum += ctx.loss * ctx.batchSize;
      this.lossN += ctx.batchSize;
    }
    const now = performance.now();
    const done = ctx.batch + 1;
    const total = ctx.batchesPerEpoch;
    const frac = total ? done / total : 0;
    if (this.tty) {
      if (now - this.lastDraw < 100 && done !== total) return;
      this.lastDraw = now;
      this.stream.write(`\r${this.line(ctx, done, total, now)}\x1b[K`);
      this.drawn = true;
    } else if (total && frac >= this.nextPlain && done !== total) {
      while (frac >= this.nextPlain) this.nextPlain += 0.2;
      this.stream.write(`${this.line(ctx, done, total, now)}\n`);
    }
  }

  onEpochEnd(): void {
    if (this.tty && this.drawn) this.stream.write('\r\x1b[K');
    this.drawn = false;
  }

  onTrainEnd(): void {
    this.onEpochEnd();
  }

  private line(ctx: TrainContext, done: number, total: number | null, now: number): string {
    const secs = (now - this.epochStart) / 1000;
    const rate = this.samples / Math.max(secs, 1e-9);
    const loss = this.lossN ? this.lossSum / this.lossN : NaN;
    const ep = `epoch ${ctx.epoch + 1}/${ctx.epochs}`;
    let bar = '';
    let eta = '';
    if (total) {
      const filled = Math.round((done / total) * this.width);
      bar = ` [${'='.repeat(Math.max(0, filled - 1))}${filled > 0 ? (done === total ? '=' : '>') : ''}${' '.repeat(this.width - filled)}]`;
      eta = `  ETA ${formatDuration(((total - done) * secs) / done)}`;
    }
    return `${ep}${bar} ${done}${total ? `/${total}` : ''}  loss ${loss.toFixed(4)}  ${Math.round(rate)} samples/s${eta}`;
  }
}
