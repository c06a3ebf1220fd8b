import { toTrainConfig as cliTrainConfig, recipe, resolveRunConfig } from '@csq/cli';
import { resolveTrainConfig } from '@csq/trainer';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_SETTINGS,
  type PlaygroundSettings,
  parseSettings,
  settingsQuery,
  toTrainConfig,
} from './settings.js';

function codeOf(f: () => unknown): { code?: string; message: string } {
  try {
    f();
  } catch (e) {
    return e as { code?: string; message: string };
  }
  throw new Error('expected a throw');
}

describe('the page settings', () => {
  it('default to the quickstart and round-trip through the query string', () => {
    expect(parseSettings('')).toEqual(DEFAULT_SETTINGS);
    expect(settingsQuery(DEFAULT_SETTINGS)).toBe('');
    const s: PlaygroundSettings = {
      ...DEFAULT_SETTINGS,
      targetBits: 3.5,
      budget: 'bops',
      bits: 6,
      lambda: 0.002,
      epochs: 4,
      seed: 7,
      train: 500,
      heldout: 300,
      batch: 64,
      lr: 0.1,
      backend: 'wasm',
    };
    const q = settingsQuery(s, { run: '1' });
    expect(q).toBe(
      'target=3.5&budget=bops&bits=6&lambda=0.002&epochs=4&seed=7&train=500&heldout=300&batch=64&lr=0.1&backend=wasm&run=1',
    );
    expect(parseSettings(q)).toEqual(s);
  });

  it('refuse wrong values with the setting named and the allowed range', () => {
    const cases: [string, RegExp][] = [
      ['target=7', /setting "target" must be target bits from 1 to 6, got 7/],
      ['target=0.5', /setting "target" must be target bits from 1 to 6/],
      ['bits=2.5', /setting "bits" must be an integer \(N/],
      ['bits=9', /setting "bits" must be N \(starting bits per layer\) from 1 to 8/],
      ['epochs=', /setting "epochs" must be a number \(epochs\), got ""/],
      ['lambda=abc', /setting "lambda" must be a number \(lambda\), got "abc"/],
      ['train=9000', /training digits from 1 to 8000/],
      ['budget=bytes', /setting "budget" must be slots, params, bops, storage, got "bytes"/],
      ['backend=gpu', /setting "backend" must be auto, webgpu, wasm, cpu/],
      ['speed=2', /setting "speed" must be one of the known settings \(target, budget, bits/],
    ];
    for (const [q, want] of cases) {
      const e = codeOf(() => parseSettings(q));
      expect(e.code, q).toBe('CSQ_PLAYGROUND_SETTING');
      expect(e.message, q).toMatch(want);
    }
  });

  it('train exactly what csq train --recipe quickstart trains, with the same overrides', () => {
    const variants: Partial<PlaygroundSettings>[] = [
      {},
      { epochs: 3, targetBits: 3, budget: 'params', lambda: 0.01, seed: 5 },
      { epochs: 12, bits: 4, batch: 64, lr: 0.1, train: 1000, budget: 'bops' },
    ];
    for (const v of variants) {
      const s = { ...DEFAULT_SETTINGS, ...v };
      const cli = resolveRunConfig([
        { source: 'recipe quickstart', config: recipe('quickstart') },
        {
          source: 'flags',
          config: {
            epochs: s.epochs,
            targetBits: s.targetBits,
            budget: s.budget,
            bits: s.bits,
            lambda: s.lambda,
            seed: s.seed,
            batch: s.batch,
            lr: s.lr,
            limitTrain: s.train,
          },
        },
      ]);
      expect(resolveTrainConfig(toTrainConfig(s)), JSON.stringify(v)).toEqual(
        resolveTrainConfig(cliTrainConfig(cli, 'csq')),
      );
    }
  });

  it('a one-epoch run has no warm-up and no ticket phase (the CLI refuses those settings)', () => {
    const cfg = resolveTrainConfig(toTrainConfig({ ...DEFAULT_SETTINGS, epochs: 1 }));
    expect(cfg.warmupEpochs).toBe(0);
    expect(cfg.csq!.ticket).toBe(1);
  });
});
