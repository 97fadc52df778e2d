/**
 * report.html is a file people mail around, so nothing in it may run (issue 19.1): every value
 * that reaches it (History values that are not numbers, keys, layer names, summary, warnings,
 * config, paths) is escaped, and a Content-Security-Policy meta tag forbids inline script.
 *
 * Checked in Debian's Chromium (headless, playwright-core): reports built from hostile inputs are
 * opened from file:// and no payload runs, neither as written nor with the CSP tag removed (so
 * escaping alone holds); a control page shows that the payloads do run when printed raw, and that
 * the CSP alone stops them. A seeded fuzz of histories then checks the parsed DOM: no element or
 * attribute from the data appears, and every table value is shown as text.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { History } from '../ts/train/callbacks.js';
import { renderReport, REPORT_CSP, writeReport, type ReportOptions } from '../ts/train/report.js';

let browser: Browser;
const dir = mkdtempSync(join(tmpdir(), 'tread-report-'));

beforeAll(async () => {
  if (!existsSync('/usr/bin/chromium')) throw new Error('/usr/bin/chromium is missing: run scripts/setup.sh');
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
});

afterAll(async () => {
  await browser?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Each payload records its name in window.__ran when it runs. */
const ran = (name: string) => `(window.__ran=window.__ran||[]).push('${name}')`;
const PAYLOADS = [
  `<img src=x onerror="${ran('img')}">`,
  `<script>${ran('script')}</script>`,
  `<svg><script>${ran('svg-script')}</script></svg>`,
  `"><svg onload="${ran('attr-break')}">`,
  `'><body onload='${ran('quote-break')}'>`,
  `</title><script>${ran('title-break')}</script>`,
  `</style><script>${ran('style-break')}</script>`,
  `</pre><script>${ran('pre-break')}</script>`,
  `<iframe srcdoc="<script>parent.__ran=(parent.__ran||[]).concat('iframe')</script>"></iframe>`,
  `<details open ontoggle="${ran('details')}">`,
];
const hostile = (i: number) => PAYLOADS[i % PAYLOADS.length];

function hostileReport(): ReportOptions {
  const history = new History();
  for (let e = 0; e < 3; e++) {
    history.push({
      epoch: (e === 1 ? hostile(0) : e) as any, // a string epoch
      loss: 1 / (e + 1),
      val_loss: 1.2 / (e + 1),
      accuracy: 0.5 + e / 10,
      lr: 0.01,
      note: hostile(e + 1) as any, // a callback's ctx.logs.note
      tag: { toString: () => hostile(e + 4) } as any, // any value: printed through String()
      [`grad_norm/${hostile(7)}.weight`]: 0.1 * (e + 1),
      [`act_std/${hostile(8)}`]: 1 + e,
      [`dead_relu/${hostile(9)}`]: 0.1,
      [`val_${hostile(5)}accuracy`]: 0.4 + e / 10,
      [hostile(6)]: e === 2 ? (hostile(3) as any) : e,
    });
  }
  return {
    title: `run ${hostile(5)}`,
    history,
    summary: { [hostile(1)]: hostile(2), path: `/tmp/${hostile(3)}/model.safetensors`, parameters: 12 },
    warnings: [`layer ${hostile(4)} has dead ReLUs`, hostile(0)],
    diagnosis: [hostile(6)],
    config: { out: `./runs/${hostile(7)}`, [hostile(8)]: [hostile(9), 1] },
  };
}

/** Opens file://`file`, waits for its load event and a little more, returns what ran. */
async function openAndCollect(file: string): Promise<{ ran: string[]; dialogs: number }> {
  const page = await browser.newPage();
  let dialogs = 0;
  page.on('dialog', (d) => {
    dialogs++;
    void d.dismiss();
  });
  await page.goto(`file://${file}`, { waitUntil: 'load' });
  await page.waitForTimeout(300); // onerror of a failed image and ontoggle fire after load
  const r = await page.evaluate(() => (window as any).__ran ?? []);
  await page.close();
  return { ran: r, dialogs };
}

describe('report.html in Chromium', () => {
  it('a report built from a hostile History, layer names, config and paths runs no script', async () => {
    const file = join(dir, 'hostile.html');
    await writeReport(file, hostileReport());
    expect(await openAndCollect(file)).toEqual({ ran: [], dialogs: 0 });
    // Escaping alone holds: the same report without its CSP runs nothing either.
    const html = renderReport(hostileReport());
    expect(html).toContain(`<meta http-equiv="Content-Security-Policy" content="${REPORT_CSP}">`);
    const noCsp = join(dir, 'no-csp.html');
    writeFileSync(noCsp, html.replace(/<meta http-equiv="Content-Security-Policy"[^>]*>/, ''));
    expect(await openAndCollect(noCsp)).toEqual({ ran: [], dialogs: 0 });
  });

  it('control: the payloads do run when printed raw, and the report CSP alone stops them', async () => {
    const raw = PAYLOADS.join('\n');
    const plain = join(dir, 'raw.html');
    writeFileSync(plain, `<!DOCTYPE html><html><head><meta charset="utf-8"><title>raw</title></head><body>${raw}</body></html>`);
    const bare = await openAndCollect(plain);
    expect(bare.ran).toEqual(expect.arrayContaining(['img', 'script', 'svg-script', 'attr-break', 'details']));
    const guarded = join(dir, 'raw-csp.html');
    writeFileSync(guarded, `<!DOCTYPE html><html><head><meta charset="utf-8"><meta http-equiv="Content-Security-Policy" content="${REPORT_CSP}"><title>raw</title></head><body>${raw}</body></html>`);
    expect(await openAndCollect(guarded)).toEqual({ ran: [], dialogs: 0 });
  });

  it('fuzz (seeded): no element or attribute from the data appears in the parsed DOM, every table value is shown', async () => {
    const rand = mulberry32(1919);
    const pick = <T,>(xs: readonly T[]) => xs[Math.floor(rand() * xs.length)];
    const cases: { html: string; marker: string; texts: string[] }[] = [];
    for (let c = 0; c < 150; c++) {
      const marker = `inj${c}x`;
      const fragments = [
        `<${marker} ${marker}a="1">`,
        `<img src=x ${marker}b=1 onerror=1>`,
        `"${marker}c="1`,
        `'${marker}d='1`,
        `</td><${marker}>`,
        `</title></text></svg><${marker}>`,
        `]]><${marker}>`,
        `<!--<${marker}>-->`,
        `<![CDATA[<${marker}>]]>`,
        `&lt;${marker}&gt;&amp;`,
        `</textarea></pre><${marker} on${marker}=1>`,
        '\u0000\u2028<',
      ];
      const str = () => Array.from({ length: 1 + Math.floor(rand() * 3) }, () => pick(fragments)).join(pick(['', ' ', 'a', '/']));
      const value = (): unknown => pick([() => rand(), () => NaN, () => Infinity, () => -3, () => str(), () => str(), () => ((t) => ({ toString: () => t }))(str()), () => [str(), 1]])();
      const history = new History();
      const keys = ['loss', 'val_loss', 'accuracy', 'lr', 'epoch', `grad_norm/${str()}`, `act_std/${str()}`, str(), str()];
      const epochs = Math.floor(rand() * 5);
      const texts: string[] = [];
      for (let e = 0; e < epochs; e++) {
        const row: Record<string, unknown> = {};
        for (const k of keys) if (rand() < 0.7) row[k] = value();
        history.push(row as any);
        // Strings in the per-epoch table (keys without '/') are shown as text, exactly.
        for (const [k, v] of Object.entries(row)) if (!k.includes('/') && typeof v !== 'number' && k !== 'epoch') texts.push(String(v));
      }
      const html = renderReport({
        title: str(),
        history,
        summary: { [str()]: str(), n: rand() },
        warnings: [str()],
        diagnosis: [str()],
        config: { [str()]: str() },
      });
      cases.push({ html, marker, texts });
    }
    const page = await browser.newPage();
    const results = await page.evaluate((cs) => {
      return cs.map(({ html, marker, texts }) => {
        const doc = new DOMParser().parseFromString(html, 'text/html');
        const bad: string[] = [];
        for (const el of Array.from(doc.querySelectorAll('*'))) {
          const tag = el.tagName.toLowerCase();
          if (tag.includes(marker) || ['script', 'img', 'iframe', 'object', 'embed', 'link', 'base', 'form', 'textarea'].includes(tag)) bad.push(`element <${tag}>`);
          for (const a of Array.from(el.attributes)) if (a.name.includes(marker) || a.name.startsWith('on')) bad.push(`attribute ${a.name} on <${tag}>`);
        }
        if (doc.querySelectorAll('meta[http-equiv="Content-Security-Policy"]').length !== 1) bad.push('CSP meta tag missing');
        // HTML text cannot hold NUL (the parser drops it): compare without it.
        const text = doc.body.textContent ?? '';
        const missing = texts.filter((t) => !text.includes(t.replace(/\u0000/g, '')));
        return { bad, missing };
      });
    }, cases);
    await page.close();
    results.forEach((r, i) => {
      expect(r.bad, `case ${i}`).toEqual([]);
      expect(r.missing, `case ${i}`).toEqual([]);
    });
  });
});

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
