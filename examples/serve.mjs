#!/usr/bin/env node
/**
 * A plain static file server for the examples: no bundler, no transforms, so the example pages
 * load the built package (dist/) and node_modules/ exactly as a web developer's server would.
 * It serves the repository root, so examples/*.html reach ../dist and ../node_modules.
 *
 *   npm run example            # builds, copies the models, serves http://127.0.0.1:8080/examples/
 *   node examples/serve.mjs [port]
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer } from 'node:http';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.svg': 'image/svg+xml',
  '.bin': 'application/octet-stream',
  '.wgsl': 'text/plain; charset=utf-8',
};

/**
 * Serves `root` on 127.0.0.1. `mounts` maps URL prefixes ('/dist/') to other directories (the
 * test serves a fresh build from a temporary folder that way). Resolves once listening.
 */
export function serveStatic({ root = REPO_ROOT, port = 0, mounts = {} } = {}) {
  const server = createServer(async (request, response) => {
    const path = decodeURIComponent(new URL(request.url ?? '/', 'http://localhost').pathname);
    const mount = Object.keys(mounts).find((prefix) => path.startsWith(prefix));
    const base = mount ? resolve(mounts[mount]) : root;
    let file = normalize(join(base, mount ? path.slice(mount.length) : path));
    if (file !== base && !file.startsWith(base + sep)) {
      response.writeHead(403).end('forbidden');
      return;
    }
    try {
      let info = await stat(file);
      if (info.isDirectory()) {
        file = join(file, 'index.html');
        info = await stat(file);
      }
      response.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'content-length': info.size, 'cache-control': 'no-store' });
      if (request.method === 'HEAD') response.end();
      else createReadStream(file).pipe(response);
    } catch {
      response.writeHead(404, { 'content-type': 'text/plain' }).end(`not found: ${path}`);
    }
  });
  return new Promise((resolvePromise, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      const { port: actual } = server.address();
      resolvePromise({ server, origin: `http://127.0.0.1:${actual}`, close: () => new Promise((done) => server.close(() => done())) });
    });
  });
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const port = Number(process.argv[2] ?? process.env.PORT ?? 8080);
  serveStatic({ port }).then(({ origin }) => {
    console.log(`Serving ${REPO_ROOT} at ${origin}`);
    console.log(`Open ${origin}/examples/ (needs 'npm run build' and 'npm run copy-models' first; 'npm run example' does both)`);
  });
}
