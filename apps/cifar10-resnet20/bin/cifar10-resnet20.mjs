#!/usr/bin/env node
// The csq-cifar10-resnet20 command. Built code lives in ../dist (run `pnpm build` first), or run
// from sources with `pnpm --filter @csq/app-cifar10-resnet20 start -- FLAGS`.
await import('../dist/main.js');
