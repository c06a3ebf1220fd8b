/**
 * A static file server on 127.0.0.1 (a random free port) for test pages. http://127.0.0.1 is a
 * secure context, so the page gets `navigator.gpu`.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ServedFile {
  body: string | Uint8Array;
  type: string;
}

export interface StaticServer {
  /** Base URL ending in '/'. */
  url: string;
  close(): Promise<void>;
}

/** Serves `files` (keys are paths such as '/index.html'); '/' serves '/index.html'. */
export async function serveFiles(files: Record<string, ServedFile>): Promise<StaticServer> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const file = files[path === '/' ? '/index.html' : path];
    if (!file) {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end(`not found: ${path}`);
      return;
    }
    res.writeHead(200, { 'content-type': file.type, 'cache-control': 'no-store' });
    res.end(file.body);
  });
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => ok());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    close: () =>
      new Promise<void>((ok) => {
        server.closeAllConnections();
        server.close(() => ok());
      }),
  };
}
