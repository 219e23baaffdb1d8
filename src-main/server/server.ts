import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type ApiResult, IsoflopError } from '../../src-shared/contract';
import type { App, Router } from '../api';
import { unexpected } from '../api/router';
import { saveUpload } from '../store/uploads';
import { dataPrefix, openDataFile } from './data-files';
import { httpStatusOf, readRendererAsset, securityHeaders } from './renderer-assets';

/** Web mode: the renderer and the API over HTTP, on the loopback interface only. */

export interface ServerOptions {
  app: App;
  rendererDir: string;
  /** 0 picks a free port. */
  port: number;
  /**
   * The secret every API, data and upload request must carry (cookie or `Authorization: Bearer`): a random
   * one per start when absent; null turns the check off (`--no-token`: anyone on this computer may call).
   */
  token?: string | null;
  /** The largest upload accepted, in bytes (default 4 GiB). */
  maxUploadBytes?: number;
}

export interface RunningServer {
  /** What to open: the page with the token, which it trades for a cookie on first load. */
  url: string;
  port: number;
  token: string | null;
  close(): Promise<void>;
}

const host = '127.0.0.1';
const maxBodyBytes = 1 << 20;
export const defaultMaxUploadBytes = 4 * 1024 ** 3;
/** A token given from outside (ISOFLOP_TOKEN) must be at least this long. */
export const minTokenLength = 16;

/** A fresh token: 128 random bits as hex, as Jupyter's are. */
export function newToken(): string {
  return randomBytes(16).toString('hex');
}

function sameSecret(given: string, token: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Cookies ignore ports: two servers on one computer keep separate ones. */
function cookieName(port: number): string {
  return `isoflop-${port}`;
}

/** Every value the request's cookies give `name` (a planted duplicate must not hide the right one). */
function cookiesOf(req: IncomingMessage, name: string): string[] {
  const values: string[] = [];
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [key, ...value] = part.trim().split('=');
    if (key === name) values.push(value.join('='));
  }
  return values;
}

/** Whether the request carries the token: as the session cookie, or as a bearer token (scripts). */
function authorized(req: IncomingMessage, token: string, port: number): boolean {
  const bearer = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
  if (bearer !== undefined && sameSecret(bearer, token)) return true;
  return cookiesOf(req, cookieName(port)).some((cookie) => sameSecret(cookie, token));
}

function isLoopbackAddress(address: string | undefined): boolean {
  if (!address) return false;
  return address === '::1' || address.startsWith('127.') || address.startsWith('::ffff:127.');
}

/** Refuses anything that is not this very server on loopback: other machines, other sites, DNS rebinding. */
function checkOrigin(req: IncomingMessage, port: number): void {
  if (!isLoopbackAddress(req.socket.remoteAddress)) {
    throw new IsoflopError('FORBIDDEN', 'IsoFLOP answers only requests from this computer.');
  }
  const allowedHosts = [`127.0.0.1:${port}`, `localhost:${port}`];
  if (!allowedHosts.includes(req.headers.host ?? '')) {
    throw new IsoflopError(
      'FORBIDDEN',
      `Requests must be addressed to http://127.0.0.1:${port}, not to host "${req.headers.host ?? ''}".`,
    );
  }
  const origin = req.headers.origin;
  if (origin !== undefined && !allowedHosts.some((allowed) => origin === `http://${allowed}`)) {
    throw new IsoflopError('FORBIDDEN', `Requests from the page at "${origin}" are not allowed.`);
  }
}

function tooLarge(what: string, limit: number): IsoflopError {
  const size = limit >= 1024 ** 3 ? `${+(limit / 1024 ** 3).toFixed(1)} GiB` : `${+(limit / 1024 ** 2).toFixed(1)} MiB`;
  return new IsoflopError('TOO_LARGE', `${what} is larger than the ${size} allowed.`);
}

/** Refuses a body whose declared length is over the limit before reading any of it. */
function checkDeclaredLength(req: IncomingMessage, what: string, limit: number): void {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) throw tooLarge(what, limit);
}

function readBody(req: IncomingMessage): Promise<string> {
  checkDeclaredLength(req, 'The request body', maxBodyBytes);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (chunk: Buffer) => {
      if (over) return; // read away unkept, so the client can still read the 413
      size += chunk.length;
      if (size > maxBodyBytes) {
        over = true;
        chunks.length = 0;
        reject(tooLarge('The request body', maxBodyBytes));
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function sendJson(res: ServerResponse, status: number, result: ApiResult<unknown>): void {
  res.writeHead(status, {
    ...securityHeaders(),
    'Content-Type': 'application/json; charset=utf-8',
    'Cache-Control': 'no-store',
  });
  res.end(JSON.stringify(result));
}

function sendError(res: ServerResponse, error: unknown): void {
  const typed = error instanceof IsoflopError ? error.toJSON() : unexpected('The web server', error);
  sendJson(res, httpStatusOf[typed.code], { ok: false, error: typed });
}

async function handleApi(req: IncomingMessage, res: ServerResponse, router: Router, channel: string): Promise<void> {
  if (req.method !== 'POST') {
    throw new IsoflopError('BAD_REQUEST', `API calls are POST requests; got ${req.method}.`);
  }
  if (!(req.headers['content-type'] ?? '').startsWith('application/json')) {
    throw new IsoflopError('BAD_REQUEST', 'API calls must send Content-Type: application/json.');
  }
  const text = await readBody(req);
  let payload: unknown;
  try {
    payload = text.length === 0 ? {} : JSON.parse(text);
  } catch {
    throw new IsoflopError('BAD_REQUEST', `The body of the ${channel} call is not valid JSON.`);
  }
  const result = await router.call(channel, payload, { transport: 'http' });
  sendJson(res, result.ok ? 200 : httpStatusOf[result.error.code], result);
}

async function handleAsset(req: IncomingMessage, res: ServerResponse, rendererDir: string, path: string) {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    throw new IsoflopError('BAD_REQUEST', `Only GET is served here; got ${req.method}.`);
  }
  const asset = await readRendererAsset(rendererDir, path);
  res.writeHead(200, {
    ...securityHeaders(),
    'Content-Type': asset.contentType,
    'Content-Length': asset.body.length,
    // Vite fingerprints everything under assets/; index.html must always be fresh.
    'Cache-Control': path.startsWith('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache',
  });
  res.end(req.method === 'HEAD' ? undefined : asset.body);
}

async function handleUpload(req: IncomingMessage, res: ServerResponse, app: App, limit: number): Promise<void> {
  if (req.method !== 'POST') throw new IsoflopError('BAD_REQUEST', `Uploads are POST requests; got ${req.method}.`);
  // Not a CORS-safelisted type: another site's page cannot send it without a preflight we never grant.
  if (req.headers['content-type'] !== 'application/octet-stream') {
    throw new IsoflopError('BAD_REQUEST', 'Uploads must send Content-Type: application/octet-stream.');
  }
  checkDeclaredLength(req, 'The upload', limit);
  const upload = await saveUpload(app.datasets.root, req, limit, () => tooLarge('The upload', limit));
  sendJson(res, 200, { ok: true, value: upload });
}

async function handleData(req: IncomingMessage, res: ServerResponse, app: App, path: string): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    throw new IsoflopError('BAD_REQUEST', `Only GET is served here; got ${req.method}.`);
  }
  const file = await openDataFile(app, path, req.headers.range);
  res.writeHead(file.status, file.headers);
  if (!file.body || req.method === 'HEAD') {
    file.body?.destroy();
    res.end();
    return;
  }
  file.body.pipe(res);
  await new Promise<void>((resolve) => {
    res.on('close', () => {
      file.body?.destroy();
      resolve();
    });
  });
}

export function startServer(options: ServerOptions): Promise<RunningServer> {
  const { app, rendererDir } = options;
  const router: Router = app.router;
  const token = options.token === undefined ? newToken() : options.token;
  const maxUpload = options.maxUploadBytes ?? defaultMaxUploadBytes;
  let port = options.port;
  const server = createServer((req, res) => {
    const handle = async () => {
      checkOrigin(req, port);
      const target = req.url ?? '/';
      if (!target.startsWith('/')) throw new IsoflopError('BAD_REQUEST', 'Requests name a path, such as /api/...');
      let url: URL;
      try {
        // Appended, not resolved: "//elsewhere/" stays a path on this server.
        url = new URL(`http://${host}:${port}${target}`);
      } catch {
        throw new IsoflopError('BAD_REQUEST', 'The request target is not a valid URL path.');
      }
      const api = url.pathname.startsWith('/api/');
      const isAsset = !api && url.pathname !== '/upload' && !url.pathname.startsWith(dataPrefix);
      if (token !== null) {
        const given = url.searchParams.get('token');
        if (isAsset && given !== null && sameSecret(given, token)) {
          // The printed address: trade the token for a cookie the page's scripts cannot read, and drop it from the URL.
          url.searchParams.delete('token');
          res.writeHead(303, {
            ...securityHeaders(),
            'Set-Cookie': `${cookieName(port)}=${token}; HttpOnly; SameSite=Strict; Path=/`,
            // One leading slash: "//host" would send the browser to another site.
            Location: `/${url.pathname.replace(/^\/+/, '')}${url.search}`,
            'Cache-Control': 'no-store',
          });
          res.end();
          return;
        }
        if (!isAsset && !authorized(req, token, port)) {
          throw new IsoflopError(
            'UNAUTHORIZED',
            'This IsoFLOP server needs its token: open the address "isoflop serve" printed (it ends in ?token=...), or send "Authorization: Bearer <token>".',
          );
        }
      }
      if (api) {
        await handleApi(req, res, router, url.pathname.slice('/api/'.length));
      } else if (url.pathname === '/upload') {
        await handleUpload(req, res, app, maxUpload);
      } else if (url.pathname.startsWith(dataPrefix)) {
        await handleData(req, res, app, url.pathname);
      } else {
        await handleAsset(req, res, rendererDir, url.pathname);
      }
    };
    handle().catch((error: unknown) => {
      if (res.headersSent) res.destroy();
      else {
        // A refused body is not read on: the answer closes the connection.
        if (error instanceof IsoflopError && error.code === 'TOO_LARGE') res.setHeader('Connection', 'close');
        sendError(res, error);
      }
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EADDRINUSE') {
        reject(
          new IsoflopError(
            'BAD_REQUEST',
            `Port ${options.port} is already in use. Pick another with --port N (or 0 for any free port).`,
          ),
        );
      } else reject(error);
    });
    server.listen(options.port, host, () => {
      port = (server.address() as AddressInfo).port;
      resolve({
        url: `http://${host}:${port}/${token === null ? '' : `?token=${token}`}`,
        port,
        token,
        close: () =>
          new Promise<void>((done) => {
            server.closeAllConnections();
            server.close(() => done());
          }),
      });
    });
  });
}
