/**
 * `writeReport`: reads a run directory (metrics.jsonl + summary.json, through @csq/run-format)
 * and writes report.html.
 * Node only; node:fs and node:path are imported when it is called, so that the rest of the
 * package stays usable in a browser bundle.
 */
import { CsqError } from '@csq/core';
import { parseSummary, RUN_FILES, readMetrics } from '@csq/run-format';
import { renderReport } from './render.js';

// Held in variables so that bundlers leave these Node-only imports alone.
const NODE_FS = 'node:fs/promises';
const NODE_PATH = 'node:path';

/** Reads metrics.jsonl and summary.json of `runDir`, renders the report and writes it to `outFile`
 *  (default `<runDir>/report.html`). Returns the path written. */
export async function writeReport(runDir: string, outFile?: string): Promise<string> {
  const fs = (await import(
    /* @vite-ignore */ /* webpackIgnore: true */ NODE_FS
  )) as typeof import('node:fs/promises');
  const path = (await import(
    /* @vite-ignore */ /* webpackIgnore: true */ NODE_PATH
  )) as typeof import('node:path');
  const read = async (name: string): Promise<string> => {
    const file = path.join(runDir, name);
    try {
      return await fs.readFile(file, 'utf8');
    } catch (e) {
      const code = (e as { code?: string }).code;
      throw new CsqError(
        'CSQ_REPORT_MISSING',
        code === 'ENOENT'
          ? `${file} not found: ${runDir} is not a finished csq run directory (the trainer writes ` +
              'metrics.jsonl every epoch and summary.json at the end). Pass the directory of a ' +
              '`csq train` run, or wait until it has finished.'
          : `could not read ${file}: ${(e as Error).message}.`,
      );
    }
  };
  const metricsFile = path.join(runDir, RUN_FILES.metrics);
  // a torn last line (a run killed while writing it) is left out
  const metrics = readMetrics(await read(RUN_FILES.metrics), metricsFile).lines;
  if (metrics.length === 0) {
    throw new CsqError(
      'CSQ_REPORT_MALFORMED',
      `${metricsFile} has no epochs yet; train for at least one epoch first.`,
    );
  }
  const summary = parseSummary(await read(RUN_FILES.summary), path.join(runDir, RUN_FILES.summary));
  const out = outFile ?? path.join(runDir, RUN_FILES.report);
  const title = `csq report: ${summary.recipe ?? 'run'} (${path.basename(path.resolve(runDir))})`;
  const html = renderReport({ metrics, summary, title });
  try {
    await fs.writeFile(out, html);
  } catch (e) {
    const code = (e as { code?: string }).code;
    throw new CsqError(
      'CSQ_REPORT_WRITE_FAILED',
      code === 'ENOENT'
        ? `cannot write ${out}: the folder ${path.dirname(out)} does not exist; create it first or choose another --out.`
        : code === 'EISDIR'
          ? `cannot write ${out}: it is a folder; pass a file name such as ${path.join(out, 'report.html')}.`
          : `cannot write ${out}: ${(e as Error).message}.`,
    );
  }
  return out;
}
