/**
 * Entry of the csq-imagenet-resnet command (`pnpm --filter @csq/app-imagenet-resnet start --
 * FLAGS`, or bin/imagenet-resnet.mjs after a build).
 */
import '@tensorflow/tfjs';
import { runApp } from '@csq/bench';
import { IMAGENET_APP } from './app-spec.js';

process.exitCode = await runApp(IMAGENET_APP, process.argv.slice(2));
