/**
 * The `--queue` URL: `redis://[[USER]:PASSWORD@]HOST[:PORT][/DB]`, or `rediss://` for TLS.
 * Parsed into BullMQ's connection options; the password is never printed or written anywhere:
 * every text that could hold the URL goes through {@link redactSecrets}.
 */
import { existsSync, readFileSync } from 'node:fs';
import { CsqError } from '@csq/core';
import type { ConnectionOptions } from 'bullmq';

/** A parsed queue URL. */
export interface QueueTarget {
  /** ioredis options for BullMQ (host, port, username, password, db, tls). */
  connection: ConnectionOptions;
  /** The URL with the password replaced by "***" (safe to print). */
  display: string;
}

const URL_WITH_CREDENTIALS = /\b(rediss?:\/\/)([^\s/]*)@/gi;

/** `text` with the credentials of every redis:// or rediss:// URL in it replaced by "***". */
export function redactSecrets(text: string): string {
  return text.replace(URL_WITH_CREDENTIALS, (_m, scheme: string, cred: string) => {
    const colon = cred.indexOf(':');
    return colon < 0 ? `${scheme}***@` : `${scheme}${cred.slice(0, colon)}:***@`;
  });
}

function caOf(env: NodeJS.ProcessEnv): { ca?: string } {
  const path = env.CSQ_QUEUE_CA;
  if (!path) return {};
  if (!existsSync(path)) {
    throw new CsqError(
      'CSQ_BAD_QUEUE_URL',
      `CSQ_QUEUE_CA names "${path}", which does not exist; give the PEM file of the CA that signed the Redis server's certificate.`,
    );
  }
  return { ca: readFileSync(path, 'utf8') };
}

/**
 * Parses a queue URL. The password may also come from the environment variable
 * CSQ_QUEUE_PASSWORD (kept out of the process list and shell history) when the URL has none;
 * for `rediss://`, CSQ_QUEUE_CA names a PEM file of the certificate authority to trust (a
 * private CA; public ones are trusted as by Node).
 */
export function parseQueueUrl(url: string, env: NodeJS.ProcessEnv = process.env): QueueTarget {
  const shown = redactSecrets(url);
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new CsqError(
      'CSQ_BAD_QUEUE_URL',
      `--queue "${shown}" is not a URL; give redis://HOST:PORT (rediss:// for TLS), e.g. redis://127.0.0.1:6379.`,
    );
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') {
    throw new CsqError(
      'CSQ_BAD_QUEUE_URL',
      `--queue "${shown}" must start with redis:// or rediss:// (TLS); got ${u.protocol}//.`,
    );
  }
  if (u.hostname === '') {
    throw new CsqError('CSQ_BAD_QUEUE_URL', `--queue "${shown}" names no host.`);
  }
  const port = u.port === '' ? 6379 : Number(u.port);
  const dbText = u.pathname.replace(/^\//, '');
  const db = dbText === '' ? 0 : Number(dbText);
  if (!Number.isInteger(db) || db < 0) {
    throw new CsqError(
      'CSQ_BAD_QUEUE_URL',
      `--queue "${shown}": the path must be a database number (/0, /1, ...); got "/${dbText}".`,
    );
  }
  const password =
    u.password !== '' ? decodeURIComponent(u.password) : (env.CSQ_QUEUE_PASSWORD ?? undefined);
  const username = u.username !== '' ? decodeURIComponent(u.username) : undefined;
  const host = u.hostname.replace(/^\[(.*)\]$/, '$1');
  const connection: ConnectionOptions = {
    host,
    port,
    db,
    ...(username !== undefined ? { username } : {}),
    ...(password !== undefined && password !== '' ? { password } : {}),
    ...(u.protocol === 'rediss:' ? { tls: { servername: host, ...caOf(env) } } : {}),
  };
  const auth = password ? `${username ?? ''}:***@` : username ? `${username}@` : '';
  return {
    connection,
    display: `${u.protocol}//${auth}${u.hostname}:${port}${db ? `/${db}` : ''}`,
  };
}
