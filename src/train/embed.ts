// Embeddings of dataset images with the model in eval mode, optionally flip-augmented (the image
// and its mirror image are embedded separately; the verification protocol adds the two).
import type { ImageDataset } from '../data/dataset.ts';
import { resizeRgb } from '../data/image.ts';
import { normalizePixel } from '../data/augment.ts';
import { noGrad } from '../autograd.ts';
import type { Layer } from '../nn/layers.ts';
import { fromArray } from '../ops/creation.ts';
import { tidy } from '../tensor.ts';

export interface EmbedOptions {
  size: number;
  batchSize?: number;
  flip?: boolean;
  /** Called after each batch with the images done so far. */
  onProgress?: (done: number, total: number) => void;
}

export interface Embeddings {
  /** One row per requested index, in order. */
  plain: Float32Array[];
  /** Embeddings of the mirrored images (empty without flip). */
  flipped: Float32Array[];
  /** Requested indices whose image could not be decoded (their rows are zero). */
  corrupt: number[];
}

/** [3, size, size] normalized CHW of a dataset image, mirrored when `mirror`. */
function imageTensorData(dataset: ImageDataset, index: number, size: number, mirror: boolean, out: Float32Array, offset: number): void {
  let img = dataset.image(index);
  if (img.width !== size || img.height !== size) img = resizeRgb(img, size, size);
  const plane = size * size;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const src = (y * size + (mirror ? size - 1 - x : x)) * 3;
      for (let c = 0; c < 3; c++) out[offset + c * plane + y * size + x] = normalizePixel(img.data[src + c]!);
    }
  }
}

export async function embedImages(model: Layer, dataset: ImageDataset, indices: readonly number[], opts: EmbedOptions): Promise<Embeddings> {
  const { size, batchSize = 64, flip = true } = opts;
  const wasTraining = model.training;
  model.eval();
  const plain: Float32Array[] = [];
  const flipped: Float32Array[] = [];
  const corrupt: number[] = [];
  const passes = flip ? [false, true] : [false];
  try {
    for (let start = 0; start < indices.length; start += batchSize) {
      const batch = indices.slice(start, start + batchSize);
      for (const mirror of passes) {
        const data = new Float32Array(batch.length * 3 * size * size); // [B, 3, size, size]
        batch.forEach((index, row) => {
          try {
            imageTensorData(dataset, index, size, mirror, data, row * 3 * size * size);
          } catch {
            if (!mirror) corrupt.push(index);
          }
        });
        const emb = tidy(() => noGrad(() => model.forward(fromArray(data, [batch.length, 3, size, size]))));
        const values = (await emb.toArray()) as Float32Array;
        emb.dispose();
        const dim = values.length / batch.length;
        for (let row = 0; row < batch.length; row++) (mirror ? flipped : plain).push(values.slice(row * dim, (row + 1) * dim));
      }
      opts.onProgress?.(Math.min(start + batchSize, indices.length), indices.length);
    }
  } finally {
    model.train(wasTraining);
  }
  return { plain, flipped, corrupt };
}
