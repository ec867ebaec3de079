// Worker-thread side of the batch loader: opens the dataset from its spec once, then prepares each
// requested batch and sends it back, transferring the arrays instead of copying them.
import { parentPort, workerData } from 'node:worker_threads';
import type { DatasetSpec, ImageDataset } from './dataset.ts';
import { serializeError } from './errors.ts';
import { openDataset } from './open.ts';
import { prepareBatch, type BatchRequest } from './prepare.ts';

const port = parentPort!;
let dataset: ImageDataset | undefined;
let openError: unknown;
try {
  dataset = openDataset((workerData as { spec: DatasetSpec }).spec);
} catch (e) {
  openError = e; // reported with the first request, where the main thread is waiting for an answer
}

port.on('message', ({ id, request }: { id: number; request: BatchRequest }) => {
  try {
    if (!dataset) throw openError;
    const batch = prepareBatch(dataset, request);
    port.postMessage({ id, batch }, [batch.images.buffer as ArrayBuffer, batch.labels.buffer as ArrayBuffer, batch.kept.buffer as ArrayBuffer]);
  } catch (e) {
    port.postMessage({ id, error: serializeError(e) });
  }
});
