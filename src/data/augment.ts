// Augmentation and normalization, fused into the one pass that writes a sample into the batch tensor.
// Each sample's random choices come from (seed, epoch, dataset index) alone, so a batch is the same
// whichever worker prepares it and whenever (resume is exact).
import type { RgbImage } from './image.ts';
import { Random, hashSeed } from './seed.ts';

export interface AugmentOptions {
  /** Mirror left-right with probability 1/2. */
  flip: boolean;
  /** Random shift of up to ±pad pixels on each axis, zero-filled: a random crop of the zero-padded image. */
  pad: number;
}

export const NO_AUGMENT: AugmentOptions = { flip: false, pad: 0 };

export interface SampleTransform {
  flip: boolean;
  /** Source pixel (x + dx, y + dy) lands at output (x, y). */
  dx: number;
  dy: number;
}

const AUGMENT_STREAM = 0xa06;

export function drawTransform(options: AugmentOptions, seed: number, epoch: number, datasetIndex: number): SampleTransform {
  if (!options.flip && options.pad === 0) return { flip: false, dx: 0, dy: 0 };
  const random = new Random(hashSeed(seed, AUGMENT_STREAM, epoch, datasetIndex));
  const flip = options.flip && random.chance(0.5);
  const dx = options.pad > 0 ? random.int(2 * options.pad + 1) - options.pad : 0;
  const dy = options.pad > 0 ? random.int(2 * options.pad + 1) - options.pad : 0;
  return { flip, dx, dy };
}

/** insightface's normalization: 0..255 -> (x - 127.5) / 128, about -1..1. */
export const normalizePixel = (value: number): number => (value - 127.5) / 128;

/**
 * Writes `image` (already at the output size) transformed and normalized into `out` at `offset` as one
 * [3, H, W] planar sample (the NCHW layout of the batch). Pixels shifted in from outside are 0 (black).
 */
export function writeSample(image: RgbImage, t: SampleTransform, out: Float32Array, offset: number): void {
  const { width, height, data } = image;
  const plane = width * height;
  const outside = normalizePixel(0);
  for (let y = 0; y < height; y++) {
    const sy = y + t.dy;
    for (let x = 0; x < width; x++) {
      const shifted = x + t.dx;
      const sx = t.flip ? width - 1 - shifted : shifted;
      const o = offset + y * width + x;
      if (sy < 0 || sy >= height || sx < 0 || sx >= width) {
        out[o] = out[o + plane] = out[o + 2 * plane] = outside;
        continue;
      }
      const p = (sy * width + sx) * 3;
      out[o] = normalizePixel(data[p]!);
      out[o + plane] = normalizePixel(data[p + 1]!);
      out[o + 2 * plane] = normalizePixel(data[p + 2]!);
    }
  }
}
