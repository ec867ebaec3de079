// Turns a list of dataset indices into a ready batch: decode, resize, augment, normalize. The same
// function runs inline (workers = 0) and inside worker threads, which is what makes their batches equal.
import { drawTransform, writeSample, type AugmentOptions } from './augment.ts';
import type { ImageDataset } from './dataset.ts';
import { CorruptImageError } from './errors.ts';
import { resizeRgb, type RgbImage } from './image.ts';

export interface BatchRequest {
  epoch: number;
  /** Dataset indices of the batch's samples, in batch order. */
  indices: Uint32Array;
  seed: number;
  augment: AugmentOptions;
  height: number;
  width: number;
}

export interface PreparedBatch {
  /** [B, 3, H, W] normalized; B = kept.length (corrupt images are left out). */
  images: Float32Array;
  /** [B] */
  labels: Int32Array;
  /** [B] dataset index of each row. */
  kept: Uint32Array;
  /** Corrupt images left out: dataset index and why. */
  skipped: { index: number; reason: string }[];
}

export function prepareBatch(dataset: ImageDataset, request: BatchRequest): PreparedBatch {
  const { height, width } = request;
  const sampleSize = 3 * height * width;
  const images = new Float32Array(request.indices.length * sampleSize); // [B, 3, H, W]
  const labels = new Int32Array(request.indices.length); // [B]
  const kept = new Uint32Array(request.indices.length); // [B]
  const skipped: PreparedBatch['skipped'] = [];
  let rows = 0;
  for (const index of request.indices) {
    let image: RgbImage;
    try {
      image = resizeRgb(dataset.image(index), width, height);
    } catch (e) {
      if (!(e instanceof CorruptImageError)) throw e;
      skipped.push({ index, reason: e.message });
      continue;
    }
    writeSample(image, drawTransform(request.augment, request.seed, request.epoch, index), images, rows * sampleSize);
    labels[rows] = dataset.label(index);
    kept[rows] = index;
    rows++;
  }
  if (rows === request.indices.length) return { images, labels, kept, skipped };
  return { images: images.slice(0, rows * sampleSize), labels: labels.slice(0, rows), kept: kept.slice(0, rows), skipped };
}
