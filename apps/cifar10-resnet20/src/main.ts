/**
 * Entry of the csq-cifar10-resnet20 command (`pnpm --filter @csq/app-cifar10-resnet20 start --
 * FLAGS`, or bin/cifar10-resnet20.mjs after a build).
 */
import '@tensorflow/tfjs';
import { runApp } from '@csq/bench';
import { CIFAR_APP } from './app-spec.js';

process.exitCode = await runApp(CIFAR_APP, process.argv.slice(2));
