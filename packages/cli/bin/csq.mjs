#!/usr/bin/env node
// The csq command. Built code lives in ../dist (run `pnpm build` in a checkout).
import { main } from '../dist/main.js';

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    console.error(err);
    process.exitCode = 1;
  },
);
