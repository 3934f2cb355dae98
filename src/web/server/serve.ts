/**
 * `featlab serve`: the built explorer app as static files, the store's read-only API under /api/,
 * and nothing else: a path that resolves outside the app folder is refused.
 */
import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hostname, networkInterfaces } from 'node:os';
import { extname, resolve, sep } from 'node:path';
import { ExplorerApi, type ApiResponse } from './api.js';

export interface ServeOptions {
  /** The address bound; requests must name it (or a loopback name) in their Host header. */
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
  readonly storePath: string;
  /** The built app (index.html and its assets). */
  readonly appDir: string;
}

export interface RunningServer {
  readonly url: string;
  readonly server: Server;
  close(): Promise<void>;
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.map': 'application/json; charset=utf-8',
  '.woff2': 'font/woff2',
};

function sendJson(res: ServerResponse, status: number, body: unknown, headOnly: boolean, filename?: string): void {
  const text = JSON.stringify(body, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), filename ? 2 : undefined);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'cache-control': 'no-store',
    ...(filename ? { 'content-disposition': `attachment; filename="${filename}"` } : {}),
  });
  res.end(headOnly ? undefined : text);
}

function sendApi(res: ServerResponse, r: ApiResponse, headOnly: boolean): void {
  if (r.text === undefined) return sendJson(res, r.status, r.body, headOnly, r.filename);
  res.writeHead(r.status, { 'content-type': r.contentType ?? 'text/plain; charset=utf-8', 'cache-control': 'no-store', ...(r.filename ? { 'content-disposition': `attachment; filename="${r.filename}"` } : {}) });
  res.end(headOnly ? undefined : r.text);
}

/** The decoded path segments, or null when the path is not valid percent-encoding. */
function decodeSegments(pathname: string): string[] | null {
  try {
    return pathname.split('/').filter((s) => s !== '').map(decodeURIComponent);
  } catch {
    return null;
  }
}

/** Loopback names always; the bound address; for a wildcard bind, this machine's name and addresses. */
export function allowedHosts(bound: string): Set<string> {
  const hosts = new Set(['localhost', '127.0.0.1', '::1']);
  const wildcard = bound === '0.0.0.0' || bound === '::' || bound === '';
  if (!wildcard) hosts.add(bound.toLowerCase());
  else {
    hosts.add(hostname().toLowerCase());
    for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) hosts.add(a.address.toLowerCase());
  }
  return hosts;
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\./.test(host);
}

/** The host part of a Host header or an Origin's authority ("[::1]:5170" → "::1"), lower case. */
function hostPart(authority: string): string {
  const text = authority.trim().toLowerCase();
  if (text.startsWith('[')) return text.slice(1, text.indexOf(']'));
  return text.split(':')[0];
}

/** Headers of every response: no MIME sniffing, and a policy the app satisfies (its own scripts, styles, workers). */
const SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  // vega compiles its expressions with new Function: 'unsafe-eval' is what the figures need; nothing loads from elsewhere.
  'content-security-policy':
    "default-src 'self'; script-src 'self' 'unsafe-eval'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; font-src 'self' data:; worker-src 'self' blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
};

export function explorerHandler(options: Pick<ServeOptions, 'storePath' | 'appDir'> & { readonly host?: string }): (req: IncomingMessage, res: ServerResponse) => void {
  const api = new ExplorerApi(options.storePath);
  const allowed = allowedHosts(options.host ?? '127.0.0.1');
  const root = resolve(options.appDir);
  const index = resolve(root, 'index.html');
  return (req, res) => {
    const headOnly = req.method === 'HEAD';
    for (const [k, v] of Object.entries(SECURITY_HEADERS)) res.setHeader(k, v);
    // A page from another site that rebinds its name to this address still sends its own name: refused.
    const host = req.headers.host;
    if (host === undefined || !allowed.has(hostPart(host))) return sendJson(res, 403, { error: `Host "${host ?? ''}" is not this explorer's address; use http://127.0.0.1 or localhost` }, headOnly);
    const origin = req.headers.origin;
    if (origin !== undefined && origin !== 'null') {
      let originHost = '';
      try {
        originHost = hostPart(new URL(origin).host);
      } catch {
        // not a URL: refused below
      }
      if (!allowed.has(originHost)) return sendJson(res, 403, { error: `requests from ${origin} are refused; the explorer answers its own pages only` }, headOnly);
    }
    if (req.method !== 'GET' && !headOnly) {
      res.setHeader('allow', 'GET, HEAD');
      return sendJson(res, 405, { error: `method ${req.method ?? '?'} not allowed; the explorer is read-only (GET, HEAD)` }, headOnly);
    }
    const raw = req.url ?? '/';
    // URL parsing would fold "/../" away; a request that tries to climb is refused as it came.
    const rawSegments = decodeSegments(raw.split('?')[0]);
    if (rawSegments?.some((s) => s.split(/[\\/]/).includes('..'))) return sendJson(res, 403, { error: `"${raw}" climbs out of the explorer app ("..")` }, headOnly);
    let url: URL;
    try {
      url = new URL(raw, 'http://explorer.invalid');
    } catch {
      return sendJson(res, 400, { error: `malformed request path "${raw}"` }, headOnly);
    }
    const segments = decodeSegments(url.pathname);
    if (segments === null) return sendJson(res, 400, { error: `malformed percent-encoding in "${url.pathname}"` }, headOnly);
    if (segments.some((s) => s.includes('\0'))) return sendJson(res, 400, { error: 'a path may not contain NUL' }, headOnly);
    if (segments[0] === 'api') {
      try {
        return sendApi(res, api.handle(segments.slice(1), url.searchParams), headOnly);
      } catch (e) {
        return sendJson(res, 500, { error: (e as Error).message }, headOnly);
      }
    }
    const target = resolve(root, ...segments);
    if (target !== root && !target.startsWith(root + sep)) return sendJson(res, 403, { error: `"${url.pathname}" is outside the explorer app` }, headOnly);
    const last = segments[segments.length - 1] ?? '';
    // Paths without an extension are the app's own routes (/lab, /results/<name>): the app answers them.
    const file = existsSync(target) && statSync(target).isFile() ? target : extname(last) === '' ? index : null;
    if (file === null || !existsSync(file)) {
      const hint = file === index ? ' (the app is not built: npm run build:web)' : '';
      return sendJson(res, 404, { error: `no such file: ${url.pathname}${hint}` }, headOnly);
    }
    res.writeHead(200, { 'content-type': CONTENT_TYPES[extname(file)] ?? 'application/octet-stream', 'cache-control': file === index ? 'no-store' : 'max-age=3600' });
    if (headOnly) return res.end();
    createReadStream(file).pipe(res);
  };
}

export function startServer(options: ServeOptions): Promise<RunningServer> {
  const server = createServer(explorerHandler(options));
  return new Promise((resolvePromise, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      const { port } = server.address() as AddressInfo;
      const host = options.host.includes(':') ? `[${options.host}]` : options.host;
      resolvePromise({
        url: `http://${host}:${port}/`,
        server,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeAllConnections();
          }),
      });
    });
  });
}
