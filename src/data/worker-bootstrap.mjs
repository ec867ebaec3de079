// Entry of the loader's worker threads. Workers run TypeScript, but Node 20 applies neither the
// parent's tsx hooks nor `--import tsx` in execArgv to a worker's entry file, so the worker registers
// tsx itself and then imports the real entry (workerData.entry, a file URL).
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
await import(workerData.entry);
