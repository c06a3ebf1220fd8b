/**
 * Entry of the csq-cifar10-resnet20 command (`pnpm --filter @csq/app-cifar10-resnet20 start --
 * FLAGS`, or bin/cifar10-resnet20.mjs after a build).
 */
import '@tensorflow/tfjs';
import { CIFAR_APP } from './app-spec.js';
import { runApp } from './harness/app.js';

process.exitCode = await runApp(CIFAR_APP, process.argv.slice(2));
