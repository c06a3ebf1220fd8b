/**
 * Speed of the page against Node (not a test): one quickstart-sized epoch (8,000 digits, batch
 * 128, the quickstart's settings, evaluation of the 2,000 held-out digits included) with
 * @csq/trainer's train() on tfjs' wasm backend with csq's kernels, in headless Chromium (the
 * built page, in its worker) and in this Node process, one after the other; prints both and the
 * ratio. Goal: page / Node <= 1.5. `pnpm --filter @csq/app-playground bench [--repeat N]`.
 */
import { readAll } from '@csq/data';
import { loadMnistEmbedded } from '@csq/data/node';
import { buildModel } from '@csq/layers';
import { train } from '@csq/trainer';
import { selectBackend } from '@csq/trainer-node';
import { DEFAULT_SETTINGS, toTrainConfig } from '../src/settings.ts';
import { buildAndServe, launchChromium, openPage, view, waitForState } from '../test/harness.ts';

const repeat = Number(process.argv[process.argv.indexOf('--repeat') + 1]) || 1;
const settings = { ...DEFAULT_SETTINGS, epochs: 1, backend: 'wasm' as const };

interface Timing {
  trainMs: number;
  medianStepMs: number;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
};

async function inNode(): Promise<Timing> {
  await selectBackend({ backend: 'wasm' });
  const data = loadMnistEmbedded();
  // the page holds its digits in memory; so does this
  await readAll(data.train);
  const model = buildModel('mnist-cnn', { bits: settings.bits, seed: settings.seed, actBits: 0 });
  const steps: number[] = [];
  let last = performance.now();
  const t0 = performance.now();
  await train({
    model,
    data,
    config: toTrainConfig(settings),
    callbacks: {
      onBatchEnd: () => {
        const now = performance.now();
        steps.push(now - last);
        last = now;
      },
    },
  });
  const trainMs = performance.now() - t0;
  model.dispose();
  return { trainMs, medianStepMs: median(steps) };
}

async function inChromium(url: string): Promise<Timing> {
  const browser = await launchChromium();
  try {
    const logs: string[] = [];
    const page = await openPage(browser.context, `${url}?epochs=1&backend=wasm&run=1`, logs);
    await waitForState(page, ['done', 'error'], 1_200_000);
    const v = await view(page);
    if (v.state !== 'done') throw new Error(`the page failed: ${JSON.stringify(v.error)}`);
    const { trainMs, stepMs } = await page.evaluate(() => {
      const p = (window as unknown as { playground: { trainMs: number; stepMs: number[] } })
        .playground;
      return { trainMs: p.trainMs, stepMs: p.stepMs };
    });
    return { trainMs, medianStepMs: median(stepMs) };
  } finally {
    await browser.close();
  }
}

const served = await buildAndServe();
try {
  console.log(
    `one quickstart epoch (8,000 digits, batch 128, N = 8, eval on 2,000), wasm, ${repeat}x each`,
  );
  const node: Timing[] = [];
  const page: Timing[] = [];
  for (let i = 0; i < repeat; i++) {
    node.push(await inNode());
    console.log(
      `  node     train() ${(node[i]!.trainMs / 1000).toFixed(1)} s, median step ${node[i]!.medianStepMs.toFixed(0)} ms`,
    );
    page.push(await inChromium(served.url));
    console.log(
      `  chromium train() ${(page[i]!.trainMs / 1000).toFixed(1)} s, median step ${page[i]!.medianStepMs.toFixed(0)} ms`,
    );
  }
  const best = (xs: Timing[], k: keyof Timing) => Math.min(...xs.map((x) => x[k]));
  console.log(
    `ratio chromium / node: train() ${(best(page, 'trainMs') / best(node, 'trainMs')).toFixed(2)}, ` +
      `median step ${(best(page, 'medianStepMs') / best(node, 'medianStepMs')).toFixed(2)} (goal <= 1.5)`,
  );
} finally {
  await served.close();
}
