#!/usr/bin/env node
// The csq-imagenet-resnet command. Built code lives in ../dist (run `pnpm build` first), or run
// from sources with `pnpm --filter @csq/app-imagenet-resnet start -- FLAGS`.
await import('../dist/main.js');
