/**
 * The tiny test app as a command (the queue tests start workers and coordinators with it, from
 * sources: `node --import tsx --conditions=@csq/source test/tiny-app-main.ts FLAGS`).
 */
import '@tensorflow/tfjs';
import { runApp } from '../src/index.js';
import { TINY_SPEC } from './fixtures.js';

process.exitCode = await runApp(TINY_SPEC, process.argv.slice(2));
