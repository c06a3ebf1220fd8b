/**
 * Files written by earlier csq versions, checked in under `fixtures/` so that tests can prove
 * the current code still reads them. See fixtures/v0.1.0/README.md for how each was made.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures');

/** What csq 0.1.0 wrote: a finished quickstart run and its export. Never write into these. */
export const V0_1_0 = {
  /** A finished run directory (config.json, metrics.jsonl, summary.json, model/, checkpoint/). */
  runDir: join(root, 'v0.1.0', 'run'),
  /** That run exported by `csq export`. */
  packedModel: join(root, 'v0.1.0', 'model.csqp'),
  /** What 0.1.0's loadPackedModel predicted for `packedModel` (see the README). */
  packedLogits: join(root, 'v0.1.0', 'model.csqp.logits.json'),
} as const;
