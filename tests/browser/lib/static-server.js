// A tiny static file server on loopback for the exported site, with the media types module
// scripts need. Nothing but GET of files under the root is answered.
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { extname, join, normalize, sep } from 'node:path';

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.wasm': 'application/wasm',
  '.mjs': 'text/javascript; charset=utf-8',
};

// The headers that make a page cross-origin isolated, so it may share memory with its workers.
export const ISOLATED = { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp' };

// Resolves to { url, requests, close }; `requests` lists every path asked for. `headers` go on
// every file served (e.g. ISOLATED).
export function serveStatic(root, { headers = {} } = {}) {
  const requests = [];
  const server = createServer(async (req, res) => {
    const path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    requests.push(path);
    const file = normalize(join(root, path.endsWith('/') ? `${path}index.html` : path));
    if (!file.startsWith(normalize(root + sep)) && file !== normalize(root)) return send(res, 403, 'forbidden');
    try {
      const body = await readFile(file);
      // The length, as real static hosts send it (writeHead leaves Node none to add itself).
      res.writeHead(200, {
        ...headers, 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'content-length': body.length,
      });
      res.end(body);
    } catch {
      send(res, 404, 'not found');
    }
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => resolve({
      url: `http://127.0.0.1:${server.address().port}/`,
      requests,
      close: () => new Promise((done) => server.close(done)),
    }));
  });
}

function send(res, status, text) {
  res.writeHead(status, { 'content-type': 'text/plain' });
  res.end(text);
}
