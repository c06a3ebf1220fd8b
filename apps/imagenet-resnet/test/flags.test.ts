import { recipeConfig, runAppCaptured } from '@csq/bench';
import { describe, expect, it } from 'vitest';
import { IMAGENET_APP, imagenetSmoke } from '../src/app-spec.js';

describe('the ImageNet app', () => {
  it('runs the recipes of spec 6 as written (rounds with rewind for ResNet-50)', () => {
    expect(recipeConfig('imagenet-r50')).toMatchObject({
      model: 'resnet50',
      bits: 8,
      actBits: 4,
      targetBits: 4,
      schedule: 'rounds',
      rounds: 3,
      epochs: 90,
      rewindEpoch: 2,
      batch: 512,
      lr: 0.1,
      weightDecay: 1e-4,
      lambda: 0.001,
    });
    expect(recipeConfig('imagenet-r18')).toMatchObject({
      model: 'resnet18',
      bits: 6,
      actBits: 0,
      targetBits: 3,
      schedule: 'epoch',
      epochs: 300,
      ticket: 200,
      batch: 1024,
    });
  });

  it('smoke settings shrink the run and keep the rounds form for ResNet-50', () => {
    expect(imagenetSmoke('imagenet-r50')).toMatchObject({
      imageSize: 32,
      widthMultiplier: 1 / 16,
      epochs: 2,
      rounds: 2,
      rewindEpoch: 1,
    });
    expect(imagenetSmoke('imagenet-r18')).not.toHaveProperty('rounds');
  });

  it('--help describes the image-folder layout and its flags; --download is refused', async () => {
    const h = await runAppCaptured(IMAGENET_APP, ['--help']);
    expect(h.code).toBe(0);
    expect(h.out).toContain('DIR/train/CLASS/*.JPEG and DIR/val/CLASS/*.JPEG');
    expect(h.out).toContain('--image-size');
    expect(h.out).toContain('--workers');
    const d = await runAppCaptured(IMAGENET_APP, ['--recipe', 'imagenet-r18', '--download']);
    expect(d.code).toBe(2);
    expect(d.err).toMatch(/Unknown option '--download'/);
    const c = await runAppCaptured(IMAGENET_APP, ['--recipe', 'cifar-n8t2']);
    expect(c.err).toMatch(/runs the recipes imagenet-r18, imagenet-r50; got "cifar-n8t2"/);
  });
});
