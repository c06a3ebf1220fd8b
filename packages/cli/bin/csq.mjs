#!/usr/bin/env node
// The csq command. Its code is built into ../dist (pnpm build in a checkout; npm packages ship it).
import { existsSync } from 'node:fs';

const main = new URL('../dist/main.js', import.meta.url);
if (!existsSync(main)) {
  console.error(
    'csq: the command is not built yet (no dist/main.js); run `pnpm build` at the repository root first.',
  );
  process.exit(1);
}
const { main: run } = await import(main.href);
run(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    console.error(err);
    process.exitCode = 1;
  },
);
