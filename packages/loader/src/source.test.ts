import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { CsqError } from '@csq/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodePackedModel } from './encode.js';
import { isNode, readPackedSource } from './source.js';

const bytes = encodePackedModel({
  topology: { class_name: 'Sequential', config: { name: 's', layers: [] } },
  weights: [{ name: 'b', shape: [2], kind: 'float32', values: [1, 2] }],
});
const dir = mkdtempSync(join(tmpdir(), 'csq-loader-src-'));
const file = join(dir, 'model with space.csqp');
writeFileSync(file, bytes);
let server: Server;
let base = '';
const requests: string[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    requests.push(`${req.url} ${req.headers['x-token'] ?? ''}`);
    if (req.url === '/model.csqp') {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      res.end(Buffer.from(bytes));
    } else {
      res.writeHead(404, 'Not Found');
      res.end();
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((r) => server.close(r));
  rmSync(dir, { recursive: true, force: true });
});

async function sourceError(p: Promise<unknown>): Promise<CsqError> {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(CsqError);
  expect((e as CsqError).code).toBe('CSQ_PACKED_SOURCE');
  return e as CsqError;
}

describe('readPackedSource', () => {
  it('knows it runs in Node', () => {
    expect(isNode()).toBe(true);
  });

  it('reads absolute and relative paths, file: URL strings and URL objects', async () => {
    for (const src of [
      file,
      relative(process.cwd(), file),
      pathToFileURL(file).href,
      pathToFileURL(file),
    ]) {
      expect(Array.from(await readPackedSource(src)), String(src)).toEqual(Array.from(bytes));
    }
  });

  it('fetches http URLs (string and URL) with the request options', async () => {
    const got = await readPackedSource(`${base}/model.csqp`, {
      requestInit: { headers: { 'x-token': 'abc' } },
    });
    expect(Array.from(got)).toEqual(Array.from(bytes));
    expect(requests).toContain('/model.csqp abc');
    expect((await readPackedSource(new URL('/model.csqp', base))).length).toBe(bytes.length);
  });

  it('uses a custom fetch when given', async () => {
    const seen: string[] = [];
    const fake = (async (url: string) => {
      seen.push(url);
      return new Response(bytes.slice().buffer);
    }) as typeof fetch;
    const got = await readPackedSource('https://example.invalid/m.csqp', { fetch: fake });
    expect(seen).toEqual(['https://example.invalid/m.csqp']);
    expect(got.length).toBe(bytes.length);
  });

  it('passes bytes through: Uint8Array, ArrayBuffer, Buffer, DataView', async () => {
    expect(await readPackedSource(bytes)).toBe(bytes);
    expect((await readPackedSource(bytes.slice().buffer)).length).toBe(bytes.length);
    expect(Array.from(await readPackedSource(Buffer.from(bytes)))).toEqual(Array.from(bytes));
    const dv = new DataView(bytes.buffer, 1, 4);
    expect(Array.from(await readPackedSource(dv))).toEqual(Array.from(bytes.subarray(1, 5)));
  });

  it('says what went wrong: missing file, HTTP error, unreachable server, bad type', async () => {
    expect((await sourceError(readPackedSource(join(dir, 'nope.csqp')))).message).toMatch(
      /no packed model at .*nope\.csqp: the file does not exist/,
    );
    expect((await sourceError(readPackedSource(`${base}/missing.csqp`))).message).toMatch(
      /HTTP 404 Not Found/,
    );
    // a port nothing listens on (the server above, closed in its own instance)
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    expect(
      (await sourceError(readPackedSource(`http://127.0.0.1:${port}/m.csqp`))).message,
    ).toMatch(/could not fetch the packed model/);
    expect((await sourceError(readPackedSource(42 as never))).message).toMatch(/from number/);
    await sourceError(readPackedSource(''));
  });
});
