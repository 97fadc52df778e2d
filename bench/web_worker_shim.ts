/**
 * A Web `Worker` global for Node, just enough for jax-js's wasm backend to start its worker pool
 * (Node has worker_threads but no `Worker` global, so jax-js runs single-threaded there). jax-js
 * creates its workers from a Blob URL of a classic script that uses `self.onmessage` and
 * `postMessage`; this shim reads the Blob's source and runs it in a worker_threads Worker with a
 * small prelude that maps those names onto `parentPort`. Messages posted before the source is
 * read (the Blob's text is async) are queued. Used by bench/jax_child.ts only.
 */
import { resolveObjectURL } from 'node:buffer';
import { Worker as NodeWorker } from 'node:worker_threads';

const PRELUDE =
  "const { parentPort } = require('node:worker_threads');\n" +
  'globalThis.self = globalThis;\n' +
  'globalThis.postMessage = (d) => parentPort.postMessage(d);\n' +
  "parentPort.on('message', (data) => self.onmessage && self.onmessage({ data }));\n";

class WebWorkerShim {
  onmessage: ((e: { data: unknown }) => void) | null = null;
  onerror: ((e: { message: string }) => void) | null = null;
  private worker: NodeWorker | null = null;
  private queue: unknown[] = [];

  constructor(url: string | URL) {
    const blob = resolveObjectURL(String(url));
    if (!blob) throw new Error(`web_worker_shim: ${String(url)} is not a Blob URL of this thread`);
    void blob.text().then((src) => {
      const w = new NodeWorker(PRELUDE + src, { eval: true });
      w.on('message', (data) => this.onmessage?.({ data }));
      w.on('error', (e) => this.onerror?.({ message: String(e) }));
      this.worker = w;
      for (const m of this.queue.splice(0)) w.postMessage(m);
    });
  }

  postMessage(m: unknown): void {
    if (this.worker) this.worker.postMessage(m);
    else this.queue.push(m);
  }

  terminate(): void {
    void this.worker?.terminate();
  }
}

/** Installs the shim as globalThis.Worker, with navigator.hardwareConcurrency = `threads` (jax-js's pool size). */
export function installWorkerShim(threads: number): void {
  (globalThis as { Worker?: unknown }).Worker = WebWorkerShim;
  Object.defineProperty((globalThis as { navigator?: object }).navigator!, 'hardwareConcurrency', { value: threads, configurable: true });
}
