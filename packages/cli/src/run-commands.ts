/**
 * `csq eval`, `csq info`, `csq export`, `csq report`: commands on a run directory (one written
 * by `csq train` or by trainNode from code).
 */
import { resolve } from 'node:path';
import { CsqError } from '@csq/core';
import { CsqController } from '@csq/layers';
import { writeReport } from '@csq/report';
import { defaultTicket, resolveTrainConfig, toTrainConfig } from '@csq/run-format';
import { defaultPreprocess, evaluateAccuracy, selectBackend } from '@csq/trainer-node';
import { parseCommandArgs } from './args.js';
import { loadRunModel, openRunDir, runMetrics } from './run-dir.js';
import { loadRunData } from './run-model.js';
import type { CommandIO } from './train-command.js';

const pct = (x: number | null | undefined) =>
  x === null || x === undefined ? '-' : `${(100 * x).toFixed(2)}%`;

/** csq eval RUN_DIR: accuracy of the saved model on the run's test data, soft and exact. */
export async function evalCommand(argv: string[], io: CommandIO): Promise<number> {
  const { values, positionals } = parseCommandArgs('eval', argv, {
    backend: { type: 'string' },
    data: { type: 'string' },
    json: { type: 'boolean' },
  });
  const run = openRunDir(positionals[0], 'eval');
  const backend = await selectBackend({
    backend: (values.backend as string | undefined) ?? run.config.backend,
  });
  const model = await loadRunModel(run, 'eval');
  const dataSpec = typeof values.data === 'string' ? values.data : run.config.data;
  const data = await loadRunData({ ...run.config, data: dataSpec });
  const cfg = resolveTrainConfig(toTrainConfig(run.config, 'csq'));
  const preprocess = defaultPreprocess(cfg, data.mean, data.std);
  const controller = new CsqController(model);
  const soft = await evaluateAccuracy(model, data.test, {
    batchSize: cfg.evalBatchSize,
    preprocess,
  });
  controller.setExact(true);
  const exact = await evaluateAccuracy(model, data.test, {
    batchSize: cfg.evalBatchSize,
    preprocess,
  });
  const result = {
    run: run.dir,
    backend: backend.name,
    testImages: data.test.count,
    beta: controller.beta,
    softAccuracy: soft,
    exactAccuracy: exact,
  };
  if (values.json) io.out.write(`${JSON.stringify(result, null, 2)}\n`);
  else {
    io.out.write(
      `${run.dir}\n  test images     ${data.test.count}\n  soft accuracy   ${pct(soft)} (beta ${controller.beta.toPrecision(4)}${controller.ticket ? ', hard masks' : ''})\n  exact accuracy  ${pct(exact)}\n`,
    );
  }
  return 0;
}

/** csq info RUN_DIR: configuration, progress and result of a run (epochs counted from 1). */
export async function infoCommand(argv: string[], io: CommandIO): Promise<number> {
  const { positionals, values } = parseCommandArgs('info', argv, { json: { type: 'boolean' } });
  const run = openRunDir(positionals[0], 'info');
  const lines = runMetrics(run);
  const csqLines = lines.filter((l) => l.model === 'csq');
  const floatLines = lines.filter((l) => l.model === 'float');
  if (values.json) {
    io.out.write(
      `${JSON.stringify({ dir: run.dir, config: run.config, summary: run.summary ?? null, epochs: { csq: csqLines.length, float: floatLines.length } }, null, 2)}\n`,
    );
    return 0;
  }
  const c = run.config;
  const what = c.model
    ? `${c.model} on ${c.data ?? '(data given in code)'}, N = ${c.bits}, act bits ${c.actBits ?? 0}`
    : `a model trained from code${c.data ? ` on ${c.data}` : ''}`;
  // people count epochs from 1: the ticket phase starts at 0-based epoch `ticket`
  const ticket = c.ticket ?? defaultTicket(c.epochs);
  const ticketText =
    ticket < c.epochs ? `ticket phase from epoch ${ticket + 1}` : 'no ticket phase';
  const out = [
    `run        ${run.dir}`,
    `recipe     ${c.recipe ?? '(config file or code)'}: ${what}, target ${c.targetBits} bits (${c.budget}), lambda ${c.lambda}`,
    `schedule   ${c.epochs} epochs${c.schedule === 'rounds' ? ` x ${c.rounds} rounds + final` : `, ${ticketText}`}, batch ${c.batch}, lr ${c.lr}, seed ${c.seed}`,
    `progress   CSQ ${csqLines.length} epochs done${c.baseline ? `, float baseline ${floatLines.length}` : ''}${run.summary ? ' (finished)' : ' (not finished)'}`,
  ];
  const s = run.summary;
  if (s) {
    out.push(
      `accuracy   exact ${pct(s.exactAccuracy)}, soft ${pct(s.softAccuracy)}${typeof s.floatAccuracy === 'number' ? `, float ${pct(s.floatAccuracy)}` : ''}`,
      `size       ${s.avgBits?.slots?.toFixed(2)} bits/layer (slots), ${s.avgBits?.params?.toFixed(2)} bits/weight (params), ${s.sizeBytes} bytes (${s.compression?.toFixed(2)}x smaller than float32)`,
      `layers     ${s.layers.map((l) => `${l.name}:${l.bits}`).join(' ')}`,
    );
  } else if (csqLines.length) {
    const l = csqLines[csqLines.length - 1]!;
    out.push(
      `last epoch ${l.epoch + 1}: soft ${pct(l.softAccuracy)}, avg bits ${l.avgBitsSlots?.toFixed(2)}`,
    );
  }
  io.out.write(`${out.join('\n')}\n`);
  return 0;
}

/** csq report RUN_DIR [--out FILE]: the HTML report. */
export async function reportCommand(argv: string[], io: CommandIO): Promise<number> {
  const { positionals, values } = parseCommandArgs('report', argv, { out: { type: 'string' } });
  const run = openRunDir(positionals[0], 'report');
  if (values.out === '')
    throw new CsqError('CSQ_BAD_FLAG', '--out is empty; give a file name such as report.html.');
  const file = await writeReport(
    run.dir,
    typeof values.out === 'string' ? resolve(values.out) : undefined,
  );
  io.out.write(`report written to ${file}\n`);
  return 0;
}

/** csq export RUN_DIR --out DIR [--format tfjs]: the exact model, packed. */
export async function exportCommand(argv: string[], io: CommandIO): Promise<number> {
  const { positionals, values } = parseCommandArgs('export', argv, {
    out: { type: 'string' },
    format: { type: 'string' },
  });
  const run = openRunDir(positionals[0], 'export');
  if (typeof values.out !== 'string' || values.out.trim() === '') {
    throw new CsqError('CSQ_NO_OUT', 'csq export needs --out DIR (where the packed model goes).');
  }
  const { exportRun } = await import('./export.js');
  const format = (values.format as string | undefined) ?? 'packed';
  if (format !== 'packed' && format !== 'tfjs') {
    throw new CsqError(
      'CSQ_BAD_FLAG',
      `--format must be "packed" (default) or "tfjs", got "${format}".`,
    );
  }
  await selectBackend({ backend: 'cpu' });
  const model = await loadRunModel(run, 'export');
  const report = await exportRun(model, resolve(values.out), { format });
  io.out.write(report);
  return 0;
}
