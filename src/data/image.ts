// 8-bit RGB images on the CPU: decoding JPEG/PNG (jpeg-js, pngjs: pure JS), resizing, encoding PNG.
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { CorruptImageError } from './errors.ts';

/** An 8-bit RGB image, channels interleaved, rows top to bottom: data[(y * width + x) * 3 + c]  [H, W, 3] */
export interface RgbImage {
  width: number;
  height: number;
  data: Uint8Array;
}

export function rgbImage(width: number, height: number): RgbImage {
  return { width, height, data: new Uint8Array(width * height * 3) }; // [H, W, 3]
}

const isJpeg = (b: Uint8Array): boolean => b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff;
const isPng = (b: Uint8Array): boolean => b.length >= 8 && b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47;

/**
 * Decodes JPEG or PNG bytes (told apart by their signature, not by a file name) to RGB. Grey and
 * palette images become RGB; PNG alpha is dropped. Anything undecodable throws CorruptImageError.
 */
export function decodeImage(bytes: Uint8Array, where: string): RgbImage {
  try {
    if (isJpeg(bytes)) {
      // 64 MP / 512 MB caps keep a corrupt header from asking for gigabytes.
      const img = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: false, maxResolutionInMP: 64, maxMemoryUsageInMB: 512 });
      if (img.data.length !== img.width * img.height * 3) throw new Error(`decoder returned ${img.data.length} bytes for ${img.width}x${img.height} RGB`);
      return { width: img.width, height: img.height, data: img.data };
    }
    if (isPng(bytes)) {
      const png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
      const out = rgbImage(png.width, png.height);
      for (let p = 0, q = 0; q < out.data.length; p += 4, q += 3) {
        out.data[q] = png.data[p]!;
        out.data[q + 1] = png.data[p + 1]!;
        out.data[q + 2] = png.data[p + 2]!;
      }
      return out;
    }
  } catch (e) {
    throw new CorruptImageError(where, (e as Error).message ?? String(e));
  }
  const head = [...bytes.subarray(0, 4)].map((b) => b.toString(16).padStart(2, '0')).join(' ');
  throw new CorruptImageError(where, `neither JPEG nor PNG (first bytes: ${head || 'none, empty'})`);
}

/** PNG bytes of an RGB image (for previews and fixtures). */
export function encodePng(img: RgbImage): Buffer {
  const png = new PNG({ width: img.width, height: img.height, colorType: 2, inputColorType: 2, inputHasAlpha: false });
  png.data = Buffer.from(img.data.buffer, img.data.byteOffset, img.data.byteLength);
  return PNG.sync.write(png, { colorType: 2, inputColorType: 2, inputHasAlpha: false });
}

/** JPEG bytes of an RGB image (fixtures for the readers' tests). */
export function encodeJpeg(img: RgbImage, quality = 90): Uint8Array {
  const rgba = new Uint8Array(img.width * img.height * 4); // [H, W, 4]: jpeg-js encodes RGBA
  for (let p = 0, q = 0; p < img.data.length; p += 3, q += 4) {
    rgba[q] = img.data[p]!;
    rgba[q + 1] = img.data[p + 1]!;
    rgba[q + 2] = img.data[p + 2]!;
    rgba[q + 3] = 255;
  }
  return new Uint8Array(jpeg.encode({ width: img.width, height: img.height, data: rgba }, quality).data);
}

/** Grey pixels (one byte each, [H, W]) to RGB. */
export function greyToRgb(grey: Uint8Array, width: number, height: number): RgbImage {
  const out = rgbImage(width, height);
  for (let i = 0; i < width * height; i++) out.data[3 * i] = out.data[3 * i + 1] = out.data[3 * i + 2] = grey[i]!;
  return out;
}

/**
 * Bilinear resize that stays anti-aliased when shrinking: the triangle filter widens by the shrink
 * factor (as PIL does), so a 250-pixel face down to 112 does not alias. Separable: rows, then columns.
 */
export function resizeRgb(img: RgbImage, width: number, height: number): RgbImage {
  if (img.width === width && img.height === height) return img;
  const across = filterTaps(img.width, width);
  const down = filterTaps(img.height, height);
  const rows = new Float32Array(img.height * width * 3); // [H_in, W_out, 3]
  for (let y = 0; y < img.height; y++) {
    for (let x = 0; x < width; x++) {
      let r = 0, g = 0, b = 0;
      for (let t = across.offsets[x]!; t < across.offsets[x + 1]!; t++) {
        const p = (y * img.width + across.source[t]!) * 3;
        const w = across.weight[t]!;
        r += w * img.data[p]!;
        g += w * img.data[p + 1]!;
        b += w * img.data[p + 2]!;
      }
      const q = (y * width + x) * 3;
      rows[q] = r;
      rows[q + 1] = g;
      rows[q + 2] = b;
    }
  }
  const out = rgbImage(width, height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let r = 0, g = 0, b = 0;
      for (let t = down.offsets[y]!; t < down.offsets[y + 1]!; t++) {
        const p = (down.source[t]! * width + x) * 3;
        const w = down.weight[t]!;
        r += w * rows[p]!;
        g += w * rows[p + 1]!;
        b += w * rows[p + 2]!;
      }
      const q = (y * width + x) * 3;
      out.data[q] = Math.round(r); // weights are >= 0 and sum to 1: stays in 0..255
      out.data[q + 1] = Math.round(g);
      out.data[q + 2] = Math.round(b);
    }
  }
  return out;
}

/** Taps of a 1-D resample: output i reads source[offsets[i] .. offsets[i+1]) with the given weights. */
function filterTaps(inSize: number, outSize: number): { offsets: Int32Array; source: Int32Array; weight: Float32Array } {
  const ratio = inSize / outSize;
  const support = Math.max(1, ratio); // triangle half-width in source pixels
  const offsets = new Int32Array(outSize + 1);
  const source: number[] = [];
  const weight: number[] = [];
  for (let o = 0; o < outSize; o++) {
    const center = (o + 0.5) * ratio - 0.5;
    const first = source.length;
    let total = 0;
    for (let i = Math.floor(center - support) + 1; i <= Math.ceil(center + support) - 1; i++) {
      const w = 1 - Math.abs(i - center) / support;
      if (w <= 0) continue;
      source.push(Math.min(inSize - 1, Math.max(0, i))); // clamp at the borders
      weight.push(w);
      total += w;
    }
    for (let t = first; t < weight.length; t++) weight[t]! /= total;
    offsets[o + 1] = source.length;
  }
  return { offsets, source: Int32Array.from(source), weight: Float32Array.from(weight) };
}
