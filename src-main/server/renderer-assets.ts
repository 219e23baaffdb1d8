import { readFile, stat } from 'node:fs/promises';
import { extname, isAbsolute, join, normalize, relative } from 'node:path';
import { type ErrorCode, IsoflopError } from '../../src-shared/contract';

/**
 * How the renderer is served, by the web server and by Electron's custom protocol alike:
 * one CSP, one set of isolation headers, one path check.
 */

export const contentSecurityPolicy = [
  "default-src 'self'",
  // tfjs compiles its WASM kernels; nothing else may be evaluated.
  "script-src 'self' 'wasm-unsafe-eval'",
  "worker-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "font-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** The HTTP status an error answers with, over HTTP and over the app's protocol alike. */
export const httpStatusOf: Record<ErrorCode, number> = {
  BAD_REQUEST: 400,
  UNKNOWN_CHANNEL: 404,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  TOO_LARGE: 413,
  INVALID_INPUT: 422,
  DAMAGED: 422,
  STORE_UNAVAILABLE: 503,
  BACKEND_UNAVAILABLE: 503,
  INTERNAL: 500,
};

/**
 * COOP/COEP make the page cross-origin isolated: no other origin's window or resource shares its process, and
 * SharedArrayBuffer and precise timers are there for it (WASM's data-parallel helpers need neither).
 */
export function securityHeaders(): Record<string, string> {
  return {
    'Content-Security-Policy': contentSecurityPolicy,
    'Cross-Origin-Opener-Policy': 'same-origin',
    'Cross-Origin-Embedder-Policy': 'require-corp',
    'Cross-Origin-Resource-Policy': 'same-origin',
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
    'Permissions-Policy': 'camera=(), microphone=(), geolocation=()',
  };
}

const contentTypes: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.wasm': 'application/wasm',
  '.woff2': 'font/woff2',
  '.bin': 'application/octet-stream',
};

export function contentTypeOf(file: string): string {
  return contentTypes[extname(file).toLowerCase()] ?? 'application/octet-stream';
}

/**
 * Maps a URL path onto a file inside root, or refuses: no `..`, no absolute paths,
 * no encoded separators, nothing outside root.
 */
export function resolveInside(root: string, urlPath: string): string {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    throw new IsoflopError('BAD_REQUEST', `The path "${urlPath}" is not valid URL encoding.`);
  }
  if (decoded.includes('\0') || decoded.includes('\\')) {
    throw new IsoflopError('FORBIDDEN', `The path "${urlPath}" is outside the app's folders.`);
  }
  const segments = decoded.split('/').filter((segment) => segment.length > 0);
  if (segments.some((segment) => segment === '..')) {
    throw new IsoflopError('FORBIDDEN', `The path "${urlPath}" is outside the app's folders.`);
  }
  const file = normalize(join(root, ...segments));
  const rel = relative(root, file);
  if (rel.startsWith('..') || isAbsolute(rel)) {
    throw new IsoflopError('FORBIDDEN', `The path "${urlPath}" is outside the app's folders.`);
  }
  return file;
}

export interface Asset {
  body: Buffer;
  contentType: string;
}

/** Reads one renderer file; `/` is index.html. */
export async function readRendererAsset(root: string, urlPath: string): Promise<Asset> {
  const path = urlPath === '/' || urlPath === '' ? '/index.html' : urlPath;
  const file = resolveInside(root, path);
  const info = await stat(file).catch(() => null);
  if (!info?.isFile()) {
    throw new IsoflopError('NOT_FOUND', `Nothing is served at "${urlPath}".`);
  }
  return { body: await readFile(file), contentType: contentTypeOf(file) };
}
