// Tiny static file server for the browser tests: serves a directory (the release dist/)
// under a URL sub-path, on loopback only, so the tests prove that public_url = "./" works
// when the app is not at the site root.
//
//   node e2e/static-server.mjs --dir dist --base /gateway-lab/ [--port 0] [--port-file FILE]
//
// With `precompressed: true` (CLI `--precompressed`), a request that accepts br or gzip gets the
// precompressed `FILE.br` / `FILE.gz` next to FILE when there is one (br first), with
// Content-Encoding and `Vary: Accept-Encoding`, as a static host configured for it does (see the
// README's note for static hosts). Without it the files are sent as they are.
//
// Prints "listening http://127.0.0.1:PORT/gateway-lab/" once ready (port 0 = a free port), and
// writes that URL to --port-file when given. Paths outside the base answer 404.
import { createServer } from 'node:http';
import { createReadStream, promises as fs } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const MIME = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.wasm': 'application/wasm',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
  '.webmanifest': 'application/manifest+json',
};

/** Starts the server; resolves to { server, url }. */
export async function startStaticServer({ dir, base = '/', host = '127.0.0.1', port = 0, precompressed = false }) {
  const root = path.resolve(dir);
  if (!base.startsWith('/')) base = '/' + base;
  if (!base.endsWith('/')) base += '/';

  const server = createServer(async (req, res) => {
    try {
      const url = new URL(req.url, 'http://localhost');
      let pathname = decodeURIComponent(url.pathname);
      if (pathname + '/' === base) {
        res.writeHead(301, { Location: base + url.search });
        return res.end();
      }
      if (!pathname.startsWith(base)) return notFound(res);
      let rel = pathname.slice(base.length);
      if (rel === '' || rel.endsWith('/')) rel += 'index.html';
      const file = path.resolve(root, rel);
      if (file !== root && !file.startsWith(root + path.sep)) return notFound(res);
      const stat = await fs.stat(file).catch(() => null);
      if (!stat || !stat.isFile()) return notFound(res);
      const headers = {
        'Content-Type': MIME[path.extname(file).toLowerCase()] ?? 'application/octet-stream',
        'Content-Length': stat.size,
        'Cache-Control': 'no-store',
      };
      let body = file;
      if (precompressed) {
        headers.Vary = 'Accept-Encoding';
        const accepts = acceptedEncodings(req.headers['accept-encoding']);
        for (const [enc, ext] of [['br', '.br'], ['gzip', '.gz']]) {
          if (!accepts.has(enc)) continue;
          const packed = await fs.stat(file + ext).catch(() => null);
          if (packed && packed.isFile()) {
            body = file + ext;
            headers['Content-Encoding'] = enc;
            headers['Content-Length'] = packed.size;
            break;
          }
        }
      }
      res.writeHead(200, headers);
      if (req.method === 'HEAD') return res.end();
      createReadStream(body).pipe(res);
    } catch {
      res.writeHead(400);
      res.end('bad request');
    }
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  const { port: actual } = server.address();
  return { server, url: `http://${host}:${actual}${base}` };
}

/** The codings an Accept-Encoding header accepts (q > 0), lower-cased. */
function acceptedEncodings(header) {
  const accepted = new Set();
  for (const part of String(header ?? '').split(',')) {
    const [name, ...params] = part.trim().toLowerCase().split(';');
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    if (name && !(q && !(Number(q.slice(2)) > 0))) accepted.add(name);
  }
  return accepted;
}

function notFound(res) {
  res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' });
  res.end('not found');
}

// CLI
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const args = process.argv.slice(2);
  const opt = (name, def) => {
    const i = args.indexOf(name);
    return i >= 0 && i + 1 < args.length ? args[i + 1] : def;
  };
  const dir = opt('--dir', 'dist');
  const { server, url } = await startStaticServer({
    dir,
    base: opt('--base', '/'),
    port: Number(opt('--port', '0')),
    precompressed: args.includes('--precompressed'),
  });
  const portFile = opt('--port-file');
  if (portFile) await fs.writeFile(portFile, url + '\n');
  console.log(`listening ${url} (serving ${path.resolve(dir)})`);
  const stop = () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
    setTimeout(() => process.exit(0), 1000).unref();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}
