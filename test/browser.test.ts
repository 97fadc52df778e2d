/**
 * tread in a real browser: Debian's Chromium, headless, driven by playwright-core, on a page
 * served from loopback with COOP/COEP headers. In a Worker it must run the threaded build
 * and multiply matrices correctly; on the main thread it must fall back to one thread and
 * say why. Both threaded variants (relaxed SIMD, which Chromium has, and plain SIMD128) run
 * in Workers side by side against JS references. Needs `npm run build` (dist/) and chromium (scripts/setup.sh installs both).
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser } from 'playwright-core';
// @ts-expect-error plain ESM helper without types
import { serve } from './browser/server.mjs';

const root = resolve(__dirname, '..');
let browser: Browser;
let server: { close(): void };
let port: number;

beforeAll(async () => {
  if (!existsSync(`${root}/dist/tread.js`)) throw new Error('dist/tread.js is missing: run `npm run build` first');
  if (!existsSync('/usr/bin/chromium')) throw new Error('/usr/bin/chromium is missing: run scripts/setup.sh');
  ({ server, port } = await serve(root));
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
});

afterAll(async () => {
  await browser?.close();
  server?.close();
});

describe('browser (Chromium)', () => {
  it('multiplies matrices with 2 threads in a Worker, and falls back to 1 thread on the main thread', async () => {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(`http://127.0.0.1:${port}/test/browser/index.html`);
    await page.waitForFunction(() => (window as any).__threaded && (window as any).__main, null, { timeout: 60_000 });
    const threaded = await page.evaluate(() => (window as any).__threaded);
    const main = await page.evaluate(() => (window as any).__main);
    expect(errors).toEqual([]);
    expect(threaded.error).toBeUndefined();
    expect(threaded.isolated).toBe(true);
    expect(threaded.info.variant).toBe('tread-relaxed-threads'); // Chromium has relaxed SIMD
    expect(threaded.info.poolThreads).toBe(2);
    expect(threaded.threadsUsed).toBe(2);
    expect(threaded.worst).toBeLessThan(1e-4);
    expect(main.error).toBeUndefined();
    expect(main.info.variant).toBe('tread-relaxed');
    expect(main.info.note).toMatch(/main thread cannot block/);
    await page.close();
  });

  it('runs both variants, relaxed SIMD and plain SIMD128, in Workers: GEMM, conv and training steps match JS references', async () => {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(`http://127.0.0.1:${port}/test/browser/variants.html`);
    await page.waitForFunction(() => (window as any).__variants['1'] && (window as any).__variants['0'], null, { timeout: 60_000 });
    const { 1: relaxed, 0: plain } = await page.evaluate(() => (window as any).__variants);
    expect(errors).toEqual([]);
    expect(relaxed.error).toBeUndefined();
    expect(plain.error).toBeUndefined();
    expect(relaxed.info).toMatchObject({ variant: 'tread-relaxed-threads', relaxedSimd: true, poolThreads: 2 });
    expect(plain.info).toMatchObject({ variant: 'tread-simd-threads', relaxedSimd: false, poolThreads: 2 });
    for (const r of [relaxed, plain]) {
      // Relative to float64 loops (test/browser/variant-check.mjs); FMA moves the last bits only.
      expect(r.gemm).toBeLessThan(1e-5);
      expect(r.conv).toBeLessThan(1e-5);
      expect(r.train.worst).toBeLessThan(1e-5);
      expect(r.train.losses[2]).toBeLessThan(r.train.losses[0] - 0.1); // the steps train
    }
    await page.close();
  });
});
