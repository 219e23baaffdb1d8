import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../api';
import { tempFolder } from '../testing';
import { type RunningServer, startServer } from './server';

// A real server on a free loopback port, over a real store in a temp folder.
let server: RunningServer;
let dataDir: string;
const folder = tempFolder();

beforeAll(async () => {
  // The secret sits right above the renderer folder: one `..` away.
  const rendererDir = join(folder.dir, 'renderer');
  mkdirSync(join(rendererDir, 'assets'), { recursive: true });
  writeFileSync(join(rendererDir, 'index.html'), '<!doctype html><title>IsoFLOP</title>');
  writeFileSync(join(rendererDir, 'assets', 'app-1234.js'), 'console.log(1)');
  writeFileSync(join(folder.dir, 'secret.txt'), 'do not serve');
  dataDir = join(folder.dir, 'data');
  server = await startServer({ app: createApp(dataDir), rendererDir, port: 0, maxUploadBytes: 64 * 1024 });
});
afterAll(async () => {
  await server.close();
  folder.cleanup();
});

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/**
 * Raw HTTP so that Host and Origin can be forged and paths sent as-is; with the server's token as a bearer
 * token unless `auth: false`.
 */
function send(
  method: string,
  path: string,
  options: { headers?: Record<string, string>; body?: string | Buffer; auth?: boolean } = {},
) {
  const headers = {
    ...(options.auth === false ? {} : { Authorization: `Bearer ${server.token}` }),
    ...options.headers,
  };
  return new Promise<Reply>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: server.port, method, path, headers }, (res) => {
      let body = '';
      res.on('data', (chunk) => {
        body += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

const json = { 'Content-Type': 'application/json' };

describe('web mode server', () => {
  it('listens on loopback and reports its URL with a fresh token', () => {
    expect(server.token).toMatch(/^[0-9a-f]{32}$/);
    expect(server.url).toBe(`http://127.0.0.1:${server.port}/?token=${server.token}`);
  });

  it('answers 401 to every API, data and upload request without the token, and trades the URL token for a cookie', async () => {
    const before = readdirSync(join(dataDir, 'datasets')).sort();
    for (const [method, path] of [
      ['POST', '/api/system.info'],
      ['POST', '/upload'],
      ['GET', '/data/datasets/demo-teacher/dataset.json'],
    ] as const) {
      const attempts: Array<Record<string, string>> = [
        {},
        { Authorization: 'Bearer wrong-token-wrong-token' },
        { Cookie: `isoflop-${server.port}=nope` },
      ];
      for (const headers of attempts) {
        const reply = await send(method, path, {
          auth: false,
          headers: {
            ...json,
            'Content-Type': path === '/upload' ? 'application/octet-stream' : 'application/json',
            ...headers,
          },
          body: method === 'POST' ? '{}' : undefined,
        });
        expect(reply.status, `${method} ${path} ${JSON.stringify(headers)}`).toBe(401);
        expect(JSON.parse(reply.body).error.code).toBe('UNAUTHORIZED');
      }
    }
    expect(readdirSync(join(dataDir, 'datasets')).sort()).toEqual(before);
    // The page itself loads without it (it holds no data), and says what to do when its calls get 401.
    expect((await send('GET', '/', { auth: false })).status).toBe(200);
    // The printed address: 303 to the same page without the token, with an HttpOnly, SameSite=Strict cookie.
    const first = await send('GET', `/?token=${server.token}`, { auth: false });
    expect(first.status).toBe(303);
    expect(first.headers.location).toBe('/');
    const cookie = String(first.headers['set-cookie']);
    expect(cookie).toContain(`isoflop-${server.port}=${server.token}`);
    expect(cookie).toContain('HttpOnly');
    expect(cookie).toContain('SameSite=Strict');
    const withCookie = await send('POST', '/api/system.info', {
      auth: false,
      headers: { ...json, Cookie: cookie.split(';')[0] as string },
      body: '{}',
    });
    expect(withCookie.status).toBe(200);
    // A planted duplicate before the right cookie does not lock the user out.
    const planted = await send('POST', '/api/system.info', {
      auth: false,
      headers: { ...json, Cookie: `isoflop-${server.port}=junk; ${cookie.split(';')[0] as string}` },
      body: '{}',
    });
    expect(planted.status).toBe(200);
    // The redirect stays on this server, whatever the path looks like.
    const sneaky = await send('GET', `/.//evil.example/?token=${server.token}`, { auth: false });
    expect(sneaky.headers.location).toBe('/evil.example/');
    // A target that is not a path is a bad request, not a bug.
    expect((await send('GET', 'http://[/api/system.info')).status).toBe(400);
    // A wrong token in the address is not traded.
    expect((await send('GET', '/?token=0123456789abcdef', { auth: false })).status).toBe(200);
  });

  it('serves without a token only when told to (--no-token)', async () => {
    const open = await startServer({ app: createApp(dataDir), rendererDir: dataDir, port: 0, token: null });
    try {
      expect(open.url).toBe(`http://127.0.0.1:${open.port}/`);
      const reply = await new Promise<number>((resolve, reject) => {
        const req = request(
          { host: '127.0.0.1', port: open.port, method: 'POST', path: '/api/system.info', headers: json },
          (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          },
        );
        req.on('error', reject);
        req.end('{}');
      });
      expect(reply).toBe(200);
    } finally {
      await open.close();
    }
  });

  it('answers bodies over their limit with 413, declared or streamed, and keeps nothing of them', async () => {
    const bigJson = `{"pad":"${'x'.repeat(1100 * 1024)}"}`;
    const api = await send('POST', '/api/system.info', { headers: json, body: bigJson });
    expect(api.status).toBe(413);
    expect(JSON.parse(api.body).error).toMatchObject({ code: 'TOO_LARGE', message: expect.stringContaining('1 MiB') });
    const upload = await send('POST', '/upload', {
      headers: { 'Content-Type': 'application/octet-stream' },
      body: Buffer.alloc(100 * 1024, 7),
    });
    expect(upload.status).toBe(413);
    expect(JSON.parse(upload.body).error.message).toContain('0.1 MiB');
    // Streamed without a length (chunked): refused mid-stream, the partial file removed.
    const streamed = await new Promise<Reply>((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port: server.port,
          method: 'POST',
          path: '/upload',
          headers: { 'Content-Type': 'application/octet-stream', Authorization: `Bearer ${server.token}` },
        },
        (res) => {
          let body = '';
          res.on('data', (chunk) => {
            body += chunk;
          });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
        },
      );
      req.on('error', reject);
      for (let i = 0; i < 20; i++) req.write(Buffer.alloc(8 * 1024, 1));
      req.end();
    });
    expect(streamed.status).toBe(413);
    expect(readdirSync(join(dataDir, 'datasets')).filter((name) => name.startsWith('.upload'))).toEqual([]);
  });

  it('serves the renderer with CSP and cross-origin isolation headers', async () => {
    const reply = await send('GET', '/');
    expect(reply.status).toBe(200);
    expect(reply.body).toContain('<title>IsoFLOP</title>');
    expect(reply.headers['content-type']).toContain('text/html');
    expect(reply.headers['content-security-policy']).toContain("default-src 'self'");
    expect(reply.headers['content-security-policy']).not.toContain("'unsafe-inline'");
    expect(reply.headers['content-security-policy']).not.toContain("'unsafe-eval'");
    expect(reply.headers['cross-origin-opener-policy']).toBe('same-origin');
    expect(reply.headers['cross-origin-embedder-policy']).toBe('require-corp');
    const asset = await send('GET', '/assets/app-1234.js');
    expect(asset.headers['content-type']).toContain('text/javascript');
    expect(asset.headers['cache-control']).toContain('immutable');
  });

  it('answers API calls as typed results', async () => {
    const reply = await send('POST', '/api/system.info', { headers: json, body: '{}' });
    expect(reply.status).toBe(200);
    const result = JSON.parse(reply.body);
    expect(result.ok).toBe(true);
    expect(result.value.dataDir).toBe(dataDir);
    expect(result.value.transport).toBe('http');
  });

  it('answers a malformed payload with 400 and a message naming the field', async () => {
    const reply = await send('POST', '/api/system.info', { headers: json, body: '{"limit": "ten"}' });
    expect(reply.status).toBe(400);
    expect(JSON.parse(reply.body)).toEqual({
      ok: false,
      error: { code: 'BAD_REQUEST', message: expect.stringContaining('limit') },
    });
  });

  it('answers broken JSON, a wrong method and a wrong content type with 400', async () => {
    const broken = await send('POST', '/api/system.info', { headers: json, body: '{"a":' });
    expect(broken.status).toBe(400);
    expect(JSON.parse(broken.body).error.message).toContain('not valid JSON');
    const get = await send('GET', '/api/system.info');
    expect(get.status).toBe(400);
    const form = await send('POST', '/api/system.info', {
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: 'a=1',
    });
    expect(form.status).toBe(400);
    expect(JSON.parse(form.body).error.message).toContain('application/json');
  });

  it('answers an unknown channel with 404 UNKNOWN_CHANNEL', async () => {
    const reply = await send('POST', '/api/datasets.format', { headers: json, body: '{}' });
    expect(reply.status).toBe(404);
    expect(JSON.parse(reply.body).error.code).toBe('UNKNOWN_CHANNEL');
  });

  it('refuses requests from another origin, and DNS-rebinding Host headers', async () => {
    const fromSite = await send('POST', '/api/system.info', {
      headers: { ...json, Origin: 'https://evil.example' },
      body: '{}',
    });
    expect(fromSite.status).toBe(403);
    expect(JSON.parse(fromSite.body).error).toEqual({
      code: 'FORBIDDEN',
      message: expect.stringContaining('evil.example'),
    });
    const otherPort = await send('GET', '/', { headers: { Origin: 'http://127.0.0.1:1' } });
    expect(otherPort.status).toBe(403);
    const rebound = await send('GET', '/', { headers: { Host: `attacker.example:${server.port}` } });
    expect(rebound.status).toBe(403);
    const sameOrigin = await send('POST', '/api/system.info', {
      headers: { ...json, Origin: `http://127.0.0.1:${server.port}` },
      body: '{}',
    });
    expect(sameOrigin.status).toBe(200);
  });

  it('never serves a file outside the renderer folder', async () => {
    for (const path of [
      '/../secret.txt',
      '/..%2fsecret.txt',
      '/assets/..%2f..%2fsecret.txt',
      '/%2e%2e/secret.txt',
      '/..%5csecret.txt',
    ]) {
      const reply = await send('GET', path);
      expect([403, 404]).toContain(reply.status);
      expect(reply.body).not.toContain('do not serve');
      expect(JSON.parse(reply.body).ok).toBe(false);
    }
    const encoded = await send('GET', '/assets/..%2f..%2fsecret.txt');
    expect(JSON.parse(encoded.body).error.code).toBe('FORBIDDEN');
  });

  it('writes nothing to the data folder for refused requests', async () => {
    const before = readdirSync(dataDir).sort();
    await send('POST', '/api/nope', { headers: json, body: '{}' });
    await send('POST', '/api/system.info', { headers: { ...json, Origin: 'https://evil.example' }, body: '{}' });
    expect(readdirSync(dataDir).sort()).toEqual(before);
  });

  it('takes an upload, imports it, and serves the split binaries with byte ranges', async () => {
    const text = Array.from({ length: 300 }, (_, i) => `sentence ${i} of the uploaded corpus.`).join('\n');
    const upload = await send('POST', '/upload', {
      headers: { 'Content-Type': 'application/octet-stream' },
      body: text,
    });
    expect(upload.status).toBe(200);
    const { uploadId, bytes } = JSON.parse(upload.body).value;
    expect(bytes).toBe(Buffer.byteLength(text));
    const started = await send('POST', '/api/datasets.import', {
      headers: json,
      body: JSON.stringify({ source: { uploadId, fileName: 'uploaded.txt' } }),
    });
    let job = JSON.parse(started.body).value;
    while (job.state === 'running') {
      await new Promise((resolve) => setTimeout(resolve, 20));
      job = JSON.parse(
        (await send('POST', '/api/jobs.get', { headers: json, body: JSON.stringify({ id: job.id }) })).body,
      ).value;
    }
    expect(job.state).toBe('succeeded');
    // The upload is gone once imported.
    expect(readdirSync(join(dataDir, 'datasets')).filter((name) => name.startsWith('.upload'))).toEqual([]);
    const whole = await send('GET', `/data/datasets/${job.datasetId}/train.bin`);
    expect(whole.status).toBe(200);
    expect(whole.headers['accept-ranges']).toBe('bytes');
    const length = Number(whole.headers['content-length']);
    const part = await send('GET', `/data/datasets/${job.datasetId}/train.bin`, { headers: { Range: 'bytes=0-9' } });
    expect(part.status).toBe(206);
    expect(part.headers['content-range']).toBe(`bytes 0-9/${length}`);
    expect(part.body).toBe(whole.body.slice(0, 10));
    const tail = await send('GET', `/data/datasets/${job.datasetId}/train.bin`, { headers: { Range: 'bytes=-5' } });
    expect(tail.body).toBe(whole.body.slice(-5));
    const beyond = await send('GET', `/data/datasets/${job.datasetId}/train.bin`, {
      headers: { Range: `bytes=${length}-` },
    });
    expect(beyond.status).toBe(416);
  });

  it('refuses dataset paths that could leave the dataset folder', async () => {
    for (const path of [
      '/data/datasets/..%2f..%2fsecret.txt/train.bin',
      '/data/datasets/%2e%2e/secret.txt',
      '/data/datasets/x/..%2f..%2f..%2fsecret.txt',
      '/data/datasets/x/dataset.json/extra',
    ]) {
      const reply = await send('GET', path);
      expect([400, 403, 404]).toContain(reply.status);
      expect(reply.body).not.toContain('do not serve');
    }
    const form = await send('POST', '/upload', { headers: { 'Content-Type': 'text/plain' }, body: 'x' });
    expect(form.status).toBe(400);
  });

  it('says clearly when the port is taken', async () => {
    await expect(startServer({ app: createApp(dataDir), rendererDir: dataDir, port: server.port })).rejects.toThrow(
      `Port ${server.port} is already in use`,
    );
  });
});
