import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { resolveTrainConfig, toTrainConfig } from '@csq/run-format';
import { describe, expect, it } from 'vitest';
import { resolveRunConfig } from '../src/config.js';
import { RECIPES } from '../src/recipes.js';
import { csq, tempDir } from './helpers.js';

const dir = tempDir('csq-cli-flags-');

describe('csq: every bad flag, config and command gives a clear error', () => {
  it('no command prints the help (exit 2); unknown commands are named', async () => {
    const none = await csq([]);
    expect(none.code).toBe(2);
    expect(none.out).toContain('csq train --recipe NAME');
    const bad = await csq(['trian']);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/unknown command "trian"; commands: train, eval, info, export, report/);
  });

  it.each([
    [['train'], /needs --recipe NAME or --config FILE.json/],
    [
      ['train', '--recipe', 'imagenet-r101'],
      /unknown recipe "imagenet-r101"; available recipes: quickstart, cifar-n8t2, cifar-n6t3a4, imagenet-r18, imagenet-r50/,
    ],
    [
      ['train', '--recipe', 'quickstart', '--epochs', 'ten'],
      /--epochs expects an integer, got "ten"/,
    ],
    [['train', '--recipe', 'quickstart', '--lr', '0.1x'], /--lr expects a number, got "0.1x"/],
    [
      ['train', '--recipe', 'quickstart', '--bogus', '1'],
      /Unknown option '--bogus'.*Valid flags for csq train: --recipe, --config/s,
    ],
    [
      ['train', '--recipe', 'quickstart', '--budget', 'size'],
      /"budget" must be one of "slots", "params", "bops"/,
    ],
    [
      ['train', '--recipe', 'quickstart', '--backend', 'tpu'],
      /"backend" must be one of "auto", "tfjs-node-gpu", "webgpu", "tfjs-node", "wasm", "cpu"/,
    ],
    [
      ['train', '--recipe', 'quickstart', '--target-bits', '9'],
      /"targetBits" \(9\) must not exceed "bits" \(8\)/,
    ],
    [['train', '--recipe', 'quickstart', '--lr=-1'], /"lr": Too small: expected number to be >0/],
    [['train', '--recipe', 'quickstart', '--lr', '-1'], /Option '--lr' argument is ambiguous/],
    [['train', '--recipe', 'quickstart', 'extra'], /takes no positional arguments/],
    [
      ['train', '--recipe', 'quickstart', '--threads', '0'],
      /--threads expects a whole number of threads >= 1 \(1 = the single-thread wasm build\), got "0"/,
    ],
    [['train', '--recipe', 'quickstart', '--threads', '1.5'], /--threads expects a whole number/],
    [['train', '--recipe', 'quickstart', '--threads', 'two'], /--threads expects a whole number/],
    [
      ['train', '--config', join('/nonexistent', 'c.json')],
      /config file "\/nonexistent\/c.json" does not exist/,
    ],
    [['eval'], /csq eval needs a run directory/],
    [['eval', '/nonexistent-run'], /run directory "\/nonexistent-run" does not exist/],
    [['export', '/tmp'], /"\/tmp" is not a csq run directory/],
  ])('%j', async (args, message) => {
    const r = await csq(args as string[]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(message);
  });

  it('config files: unknown keys, bad values and bad JSON name the file, the key and the allowed values', async () => {
    const write = (name: string, text: string) => {
      const p = join(dir, name);
      writeFileSync(p, text);
      return p;
    };
    const unknown = await csq([
      'train',
      '--config',
      write('u.json', JSON.stringify({ recipe: 'quickstart', learningRate: 0.1 })),
    ]);
    expect(unknown.err).toMatch(
      /u\.json: unknown key "learningRate"; allowed keys: recipe, model, data, bits/,
    );
    const badValue = await csq([
      'train',
      '--config',
      write('v.json', JSON.stringify({ recipe: 'quickstart', model: 'vgg16' })),
    ]);
    expect(badValue.err).toMatch(
      /"model" must be one of "mnist-cnn", "resnet20", "resnet18", "resnet50"/,
    );
    const nested = await csq([
      'train',
      '--config',
      write('n.json', JSON.stringify({ recipe: 'quickstart', augment: { crop: 4 } })),
    ]);
    expect(nested.err).toMatch(/unknown key "crop" in "augment"/);
    const notJson = await csq([
      'train',
      '--config',
      write('j.json', '{ "recipe": "quickstart", }'),
    ]);
    expect(notJson.err).toMatch(/config file ".*j\.json" is not valid JSON/);
    const missing = await csq([
      'train',
      '--config',
      write('m.json', JSON.stringify({ epochs: 3 })),
    ]);
    expect(missing.err).toMatch(/"model".*\n.*"data"/s);
  });

  it('recipes are complete, valid configs; the ticket follows --epochs', () => {
    for (const [name, r] of Object.entries(RECIPES)) {
      expect(() => resolveRunConfig([{ source: name, config: r }])).not.toThrow();
    }
    const c = resolveRunConfig([
      { source: 'recipe', config: RECIPES['cifar-n8t2']! },
      { source: 'flags', config: { epochs: 20 } },
    ]);
    expect(c.ticket).toBe(15); // 600 -> 595 keeps five epochs after the ticket
    const q = resolveRunConfig([
      { source: 'recipe', config: RECIPES.quickstart! },
      { source: 'flags', config: { epochs: 4 } },
    ]);
    expect(q.ticket).toBe(2);
    expect(q.lambda).toBe(RECIPES.quickstart!.lambda);
  });

  it('budget enforcement: trim for quickstart and configs without a recipe, off for the paper recipes', async () => {
    const enforce = (config: object) =>
      resolveTrainConfig(
        toTrainConfig(resolveRunConfig([{ source: 'c', config: config as never }]), 'csq'),
      ).csq?.budget.enforce;
    expect(enforce(RECIPES.quickstart!)).toBe('trim');
    for (const name of ['cifar-n8t2', 'cifar-n6t3a4', 'imagenet-r18', 'imagenet-r50'])
      expect(enforce(RECIPES[name]!), name).toBe('off');
    const { enforceBudget: _e, recipe: _r, ...noRecipe } = RECIPES.quickstart!;
    expect(enforce(noRecipe)).toBe('trim');
    const bad = await csq(['train', '--recipe', 'quickstart', '--enforce-budget', 'cut']);
    expect(bad.code).not.toBe(0);
    expect(bad.err).toMatch(/"enforceBudget" must be one of "trim", "off"/);
    const mode = await csq(['train', '--recipe', 'quickstart', '--budget', 'size']);
    expect(mode.err).toMatch(/"budget" must be one of "slots", "params", "bops", "storage"/);
  });
});
