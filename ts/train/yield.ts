/**
 * Yielding to the event loop during fit(), as tfjs's `yieldEvery`.
 *
 * A training loop over an in-memory DataLoader never waits for anything, so without this a
 * Worker's `onmessage` (a stop or pause request) runs only after the last epoch, and a page's
 * main thread draws no frames while it trains. fit() calls `maybeYield()` after every batch
 * and every epoch; depending on the setting it gives the event loop one macrotask turn:
 *
 *   'auto'   (default) when at least 50 ms passed since the last turn: messages arrive
 *            within about one batch while the cost stays under a few tenths of a percent
 *   'batch'  after every batch (a Worker that must react exactly one batch later)
 *   'epoch'  after every epoch
 *   'never'  not at all (the behaviour before this option)
 *   n (ms)   when at least n milliseconds passed since the last turn
 *
 * A macrotask, not a resolved promise: awaiting a promise only runs microtasks, and
 * messages and timers wait behind them. setImmediate (Node) and a MessageChannel (browsers)
 * take a few microseconds, where setTimeout(0) is clamped to 1-4 ms.
 */
import { checkNumberOption, checkOneOf } from '../util/options.js';

export type YieldEvery = 'auto' | 'batch' | 'epoch' | 'never' | number;

const AUTO_MS = 50;

/** Checks a `yieldEvery` value (owner names the caller in the error). */
export function checkYieldEvery(owner: string, v: unknown): YieldEvery {
  if (typeof v === 'number') return checkNumberOption(owner, 'yieldEvery', v, { min: 0 });
  return checkOneOf(owner, 'yieldEvery', v, ['auto', 'batch', 'epoch', 'never'] as const);
}

let channel: { port: MessagePort; waiting: (() => void)[] } | null = null;

/** One macrotask turn of the event loop. */
export function nextMacrotask(): Promise<void> {
  const g = globalThis as any;
  if (typeof g.setImmediate === 'function') return new Promise((resolve) => g.setImmediate(resolve));
  if (typeof MessageChannel === 'function') {
    if (!channel) {
      const mc = new MessageChannel();
      const waiting: (() => void)[] = [];
      mc.port1.onmessage = () => waiting.shift()?.();
      channel = { port: mc.port2, waiting };
    }
    const ch = channel;
    return new Promise((resolve) => {
      ch.waiting.push(resolve);
      ch.port.postMessage(null);
    });
  }
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/** The function fit() calls at the end of each batch and epoch. */
export function makeYielder(setting: YieldEvery): (at: 'batch' | 'epoch') => Promise<void> | null {
  if (setting === 'never') return () => null;
  if (setting === 'batch') return () => nextMacrotask();
  if (setting === 'epoch') return (at) => (at === 'epoch' ? nextMacrotask() : null);
  const ms = setting === 'auto' ? AUTO_MS : setting;
  let last = performance.now();
  return () => {
    const now = performance.now();
    if (now - last < ms) return null;
    return nextMacrotask().then(() => {
      last = performance.now();
    });
  };
}
