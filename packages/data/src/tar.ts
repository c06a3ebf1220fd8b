/**
 * Tar extraction for data-set archives (Node). The archive is parsed by `tar` (node-tar, npm's
 * own tar reader: ustar, pax, GNU long names, base-256 sizes, header checksums); a gzipped tar
 * is recognised by its magic bytes. What lands on disk is decided here, the same way on every
 * platform: only regular files and folders are written (links, devices and FIFOs are skipped,
 * never created); a name that is absolute, climbs with `..`, holds a backslash, a drive letter
 * or a control character is refused; the files' total size is capped and reading stops at the
 * end-of-archive marker (so neither a huge entry nor a stream of zeros behind the archive is
 * read); a partial header is an error; each file is written to a temporary name and renamed
 * only when complete.
 */
import { createWriteStream, mkdirSync } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { CsqError } from '@csq/core';
import { Parser, type ReadEntry } from 'tar';

/** Default of {@link ExtractTarOptions.maxBytes}: 16 GiB. */
export const TAR_MAX_BYTES = 16 * 1024 ** 3;

/** Options of {@link extractTar}. */
export interface ExtractTarOptions {
  /** Refuse the archive once its files add up to more than this many bytes (default 16 GiB). */
  maxBytes?: number;
}

const FILE_TYPES = new Set(['File', 'OldFile', 'ContiguousFile']);

function corrupt(message: string): CsqError {
  return new CsqError('CSQ_DATA_CORRUPT_ARCHIVE', message);
}

/**
 * The safe relative path of an entry (platform separators), or undefined for an entry that
 * names only the destination itself. Throws for names that could land outside it on any
 * platform.
 */
export function safeTarPath(name: string, archive: string): string | undefined {
  const refuse = (why: string) =>
    corrupt(`${archive} has an entry "${name}" ${why}; refusing to extract it.`);
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are the point
  if (/[\u0000-\u001f]/.test(name)) throw refuse('with a control character in its name');
  if (name.includes('\\')) throw refuse('with a backslash (a Windows path separator)');
  if (/^[A-Za-z]:/.test(name)) throw refuse('with a drive letter, outside its folder');
  if (name.startsWith('/')) throw refuse('with an absolute path, outside its folder');
  const parts = name.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) throw refuse('outside its folder');
  return parts.length === 0 ? undefined : parts.join(sep);
}

/** The tar bytes of `input`: gunzipped when it starts with the gzip magic. */
async function* tarBytes(input: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  const it = input[Symbol.asyncIterator]();
  const head: Uint8Array[] = [];
  let headBytes = 0;
  while (headBytes < 2) {
    const next = await it.next();
    if (next.done) break;
    head.push(next.value);
    headBytes += next.value.length;
  }
  async function* all(): AsyncGenerator<Uint8Array> {
    yield* head;
    for (let next = await it.next(); !next.done; next = await it.next()) yield next.value;
  }
  const first = Buffer.concat(head);
  if (first[0] === 0x1f && first[1] === 0x8b) yield* Readable.from(all()).pipe(createGunzip());
  else yield* all();
}

/** A CsqError for what the tar parser reported. */
function parserError(err: Error & { tarCode?: string; entry?: ReadEntry }, archive: string) {
  if (err instanceof CsqError) return err;
  const message = err.message.replace(/^TAR_[A-Z_]+: /, '');
  if (/Truncated input/.test(message)) {
    const inside = err.entry ? ` inside entry "${err.entry.path}"` : '';
    return corrupt(`${archive} is truncated${inside}; delete it and download it again.`);
  }
  if (/checksum failure/.test(message)) {
    return corrupt(
      `${archive} is not a valid tar archive (header checksum mismatch); delete it and ` +
        `download it again.`,
    );
  }
  return corrupt(
    `${archive} is not a valid tar archive (${message}); delete it and download it again.`,
  );
}

/**
 * Extracts a tar stream (plain or gzipped) into `destDir`; returns the relative paths of the
 * files written. `archive` names the archive in errors. Throws `CSQ_DATA_CORRUPT_ARCHIVE` for a
 * truncated or damaged archive, an entry that would land outside `destDir`, or files adding up
 * to more than `maxBytes`; a file cut short never appears under its final name.
 */
export async function extractTar(
  input: AsyncIterable<Uint8Array>,
  destDir: string,
  archive: string,
  opts: ExtractTarOptions = {},
): Promise<string[]> {
  const maxBytes = opts.maxBytes ?? TAR_MAX_BYTES;
  const root = resolve(destDir);
  const written: string[] = [];
  // files are renamed into place one after another, in archive order (a later duplicate wins)
  let renamed: Promise<void> = Promise.resolve();
  const temps = new Set<string>();
  let totalBytes = 0;
  let failure: CsqError | undefined;
  const parser = new Parser({ strict: true });
  const open = new Set<NodeJS.WritableStream & { destroy(): void }>();
  // the first failure wins; it stops the parser and any file being written
  const fail = (err: unknown) => {
    if (failure) return;
    failure = parserError(err as Error, archive);
    parser.abort(new Error('stopped'));
    for (const out of open) out.destroy();
  };

  const onEntry = (entry: ReadEntry) => {
    const name = entry.header.path ?? entry.path;
    if (!FILE_TYPES.has(entry.type) && entry.type !== 'Directory') {
      entry.resume(); // links, devices, FIFOs: never created
      return;
    }
    const rel = safeTarPath(name, archive);
    if (rel === undefined) {
      entry.resume();
      return;
    }
    const target = join(root, rel);
    if (entry.type === 'Directory') {
      mkdirSync(target, { recursive: true });
      entry.resume();
      return;
    }
    totalBytes += entry.size;
    if (totalBytes > maxBytes) {
      throw corrupt(
        `${archive} holds more than ${maxBytes} bytes of files (entry "${name}" brings it to ` +
          `${totalBytes}); it is not the archive expected, or pass a larger maxBytes.`,
      );
    }
    mkdirSync(dirname(target), { recursive: true });
    const tmp = `${target}.part-${process.pid}-${written.length}`;
    temps.add(tmp);
    let got = 0;
    entry.on('data', (chunk: Buffer) => {
      got += chunk.length;
    });
    const out = createWriteStream(tmp);
    open.add(out);
    entry.pipe(out);
    written.push(rel);
    const previous = renamed;
    renamed = finished(out)
      .then(async () => {
        open.delete(out);
        await previous;
        if (got !== entry.size) {
          throw corrupt(
            `${archive} is truncated inside entry "${name}"; delete it and download it again.`,
          );
        }
        if (failure) return;
        await rename(tmp, target);
        temps.delete(tmp);
      })
      .catch(fail);
  };
  parser.on('entry', (entry: ReadEntry) => {
    if (failure) {
      entry.resume();
      return;
    }
    try {
      onEntry(entry);
    } catch (err) {
      entry.resume();
      fail(err);
    }
  });
  parser.on('error', fail);
  const done = new Promise<void>((ok) => {
    parser.on('end', ok);
    parser.on('abort', ok);
  });
  let sawEof = false; // two zero blocks: nothing after them is read
  parser.on('eof', () => {
    sawEof = true;
  });

  let fed = 0;
  try {
    for await (const chunk of tarBytes(input)) {
      if (failure || sawEof) break;
      fed += chunk.length;
      if (!parser.write(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength))) {
        await new Promise<void>((ok) => {
          const go = () => {
            parser.off('drain', go);
            parser.off('abort', go);
            ok();
          };
          parser.on('drain', go);
          parser.on('abort', go);
        });
      }
    }
  } catch (err) {
    fail(
      corrupt(
        `cannot read ${archive}: ${(err as Error).message}; delete it and download it again.`,
      ),
    );
  }
  if (!failure) {
    parser.end();
    await done;
  }
  if (!failure && !sawEof && fed % 512 !== 0) {
    // node-tar drops a partial block at the end without a word
    fail(
      corrupt(`${archive} is truncated (a partial tar header); delete it and download it again.`),
    );
  }
  await renamed;
  if (failure) {
    await Promise.all([...temps].map((t) => rm(t, { force: true })));
    throw failure;
  }
  return written;
}
