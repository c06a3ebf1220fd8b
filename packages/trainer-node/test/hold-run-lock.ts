// Child process of run-lock.test.ts: takes the run lock of argv[2], says "held", waits.
import { acquireRunLock } from '../src/run-lock.js';

const lock = await acquireRunLock(process.argv[2]!);
process.stdout.write('held\n');
void lock; // held until the parent kills this process
setInterval(() => {}, 1000);
