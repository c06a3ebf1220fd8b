/**
 * A real redis-server for tests: on a free port of 127.0.0.1, with its own temporary
 * directory, no persistence, a password, killed by `stop()`. Installs nothing: without the
 * binary (Debian package redis-server, or CSQ_REDIS_SERVER=/path) tests skip and say why.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

/** The redis-server binary, or undefined when there is none. */
export function findRedisServer(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.CSQ_REDIS_SERVER)
    return existsSync(env.CSQ_REDIS_SERVER) ? env.CSQ_REDIS_SERVER : undefined;
  for (const dir of [...(env.PATH ?? '').split(delimiter), '/usr/bin', '/usr/sbin']) {
    const p = join(dir, 'redis-server');
    if (dir && existsSync(p)) return p;
  }
  return undefined;
}

/** openssl, or undefined (TLS tests skip without it). */
export function findOpenssl(): string | undefined {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore', timeout: 10_000 });
    return 'openssl';
  } catch {
    return undefined;
  }
}

/** A CA and a server certificate for 127.0.0.1 signed by it, written into `dir`. */
function makeCertificates(dir: string): { ca: string; cert: string; key: string } {
  const f = (n: string) => join(dir, n);
  const run = (args: string[]) =>
    execFileSync('openssl', args, { cwd: dir, stdio: 'ignore', timeout: 60_000 });
  run([
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    f('ca.key'),
    '-out',
    f('ca.pem'),
    '-days',
    '2',
    '-subj',
    '/CN=csq-test-ca',
  ]);
  run([
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    f('server.key'),
    '-out',
    f('server.csr'),
    '-subj',
    '/CN=127.0.0.1',
  ]);
  writeFileSync(f('ext.cnf'), 'subjectAltName=IP:127.0.0.1\n');
  run([
    'x509',
    '-req',
    '-in',
    f('server.csr'),
    '-CA',
    f('ca.pem'),
    '-CAkey',
    f('ca.key'),
    '-CAcreateserial',
    '-out',
    f('server.pem'),
    '-days',
    '2',
    '-extfile',
    f('ext.cnf'),
  ]);
  return { ca: f('ca.pem'), cert: f('server.pem'), key: f('server.key') };
}

/** A free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** A running test Redis. */
export interface TestRedis {
  port: number;
  /** redis://:PASSWORD@127.0.0.1:PORT */
  url: string;
  password: string;
  /** With `tls`: the CA's PEM file (for CSQ_QUEUE_CA); the URL is rediss://. */
  caFile?: string;
  stop(): Promise<void>;
}

const canConnect = (port: number) =>
  new Promise<boolean>((resolve) => {
    const c = createConnection({ port, host: '127.0.0.1' });
    c.once('connect', () => {
      c.destroy();
      resolve(true);
    });
    c.once('error', () => resolve(false));
  });

/**
 * Starts redis-server `bin` with `password` (and only a TLS port, with a fresh CA, when `tls`);
 * resolves once it accepts connections.
 */
export async function startRedis(
  bin: string,
  password: string,
  opts: { tls?: boolean } = {},
): Promise<TestRedis> {
  const dir = mkdtempSync(join(tmpdir(), 'csq-redis-'));
  const port = await freePort();
  const certs = opts.tls ? makeCertificates(dir) : undefined;
  const ports = certs
    ? [
        ...['--port', '0', '--tls-port', String(port), '--tls-auth-clients', 'no'],
        ...[
          '--tls-cert-file',
          certs.cert,
          '--tls-key-file',
          certs.key,
          '--tls-ca-cert-file',
          certs.ca,
        ],
      ]
    : ['--port', String(port)];
  const child: ChildProcess = spawn(
    bin,
    [
      ...ports,
      '--bind',
      '127.0.0.1',
      '--dir',
      dir,
      '--save',
      '',
      '--appendonly',
      'no',
      '--requirepass',
      password,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  // never outlive the test process, even when it ends without calling stop()
  const onExit = () => child.kill('SIGKILL');
  process.once('exit', onExit);
  let log = '';
  child.stdout?.on('data', (d) => {
    log += d;
  });
  child.stderr?.on('data', (d) => {
    log += d;
  });
  const deadline = Date.now() + 20_000;
  while (!(await canConnect(port))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`redis-server did not start on port ${port}: ${log}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    port,
    password,
    url: `${certs ? 'rediss' : 'redis'}://:${password}@127.0.0.1:${port}`,
    ...(certs ? { caFile: certs.ca } : {}),
    async stop() {
      process.off('exit', onExit);
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGKILL');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
