// PNG encoding and charts: a valid PNG (signature, chunk CRCs, IHDR, inflated size) whose pixels show
// the curves where the axes put them.
import { inflateSync } from 'node:zlib';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Canvas, barChart, binCounts, histogramChart, lineChart, rocChart, savePng, type Color } from '../src/eval/plot.ts';
import { crc32, encodePng } from '../src/eval/png.ts';
import { textWidth } from '../src/eval/font.ts';

/** CRC-32 bit by bit (no table), independent of the implementation under test. */
function referenceCrc32(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of bytes) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0xedb88320 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

/** Parses a PNG written by encodePng, checking every structural rule on the way. */
function decodePng(file: Buffer): { width: number; height: number; rgb: Uint8Array; chunkTypes: string[] } {
  expect(Array.from(file.subarray(0, 8))).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const chunkTypes: string[] = [];
  const idat: Buffer[] = [];
  let width = 0;
  let height = 0;
  for (let at = 8; at < file.length; ) {
    const length = file.readUInt32BE(at);
    const type = file.toString('ascii', at + 4, at + 8);
    const data = file.subarray(at + 8, at + 8 + length);
    expect(file.readUInt32BE(at + 8 + length), `CRC of ${type}`).toBe(referenceCrc32(file.subarray(at + 4, at + 8 + length)));
    chunkTypes.push(type);
    if (type === 'IHDR') {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      expect(Array.from(data.subarray(8))).toEqual([8, 2, 0, 0, 0]); // 8-bit RGB, deflate, no interlace
    }
    if (type === 'IDAT') idat.push(data);
    at += 12 + length;
  }
  const raw = inflateSync(Buffer.concat(idat));
  expect(raw.length).toBe(height * (1 + 3 * width));
  const rgb = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    expect(raw[y * (1 + 3 * width)]).toBe(0); // filter type None
    rgb.set(raw.subarray(y * (1 + 3 * width) + 1, (y + 1) * (1 + 3 * width)), y * width * 3);
  }
  return { width, height, rgb, chunkTypes };
}

/** Pixels close to a colour (the antialiased edges are left out by the tolerance). */
function pixelsOf(image: { width: number; rgb: Uint8Array }, color: Color, tolerance = 40): [number, number][] {
  const found: [number, number][] = [];
  for (let i = 0; i < image.rgb.length; i += 3) {
    if (Math.abs(image.rgb[i]! - color[0]) + Math.abs(image.rgb[i + 1]! - color[1]) + Math.abs(image.rgb[i + 2]! - color[2]) <= tolerance) {
      found.push([(i / 3) % image.width, Math.floor(i / 3 / image.width)]);
    }
  }
  return found;
}

describe('PNG encoding', () => {
  it('computes the standard CRC-32 check value and the known IEND CRC', () => {
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
    expect(crc32(new TextEncoder().encode('IEND'))).toBe(0xae426082);
  });

  it('round-trips pixels through signature, IHDR, IDAT and IEND', () => {
    const canvas = new Canvas(7, 3, [10, 20, 30]);
    canvas.fillRect(2, 1, 3, 1, [200, 100, 0]);
    const image = decodePng(canvas.toPng());
    expect(image.chunkTypes).toEqual(['IHDR', 'IDAT', 'IEND']);
    expect([image.width, image.height]).toEqual([7, 3]);
    expect(Array.from(image.rgb)).toEqual(Array.from(canvas.pixels));
    expect(Array.from(image.rgb.subarray((1 * 7 + 2) * 3, (1 * 7 + 3) * 3))).toEqual([200, 100, 0]);
  });

  it('names a wrong pixel buffer size', () => {
    expect(() => encodePng(2, 2, new Uint8Array(11))).toThrow(/11 bytes for a 2x2 RGB image \(need 12\)/);
    expect(() => new Canvas(0, 5)).toThrow(/got 0x5/);
  });
});

describe('rocChart', () => {
  const red: Color = [230, 0, 0];
  const blue: Color = [0, 0, 230];
  // A step at FAR = 1e-2, halfway along a log axis from 1e-4 to 1; a flat curve at TAR 0.9 above it.
  const step = { far: [0, 1e-4, 1e-2, 1e-2, 1], tar: [0, 0.2, 0.2, 0.8, 0.8] };
  const flat = { far: [0, 1e-5, 1], tar: [0.9, 0.9, 0.9] };
  const image = decodePng(rocChart([{ name: 'step', roc: step, color: red }, { name: 'flat', roc: flat, color: blue }], { title: 'ROC test', legend: 'none' }).toPng());

  it('draws each curve across the log FAR axis, in the right places', () => {
    expect([image.width, image.height]).toEqual([800, 560]);
    const redPixels = pixelsOf(image, red);
    const bluePixels = pixelsOf(image, blue);
    expect(redPixels.length).toBeGreaterThan(500);
    expect(bluePixels.length).toBeGreaterThan(500);
    const xs = redPixels.map(([x]) => x);
    const left = Math.min(...xs);
    const right = Math.max(...xs);
    expect(right - left).toBeGreaterThan(600); // spans the plot width: FAR 1e-4 .. 1
    // The vertical part of the step (a column of red pixels) sits halfway between the ends on the log axis.
    const columns = new Map<number, number>();
    for (const [x] of redPixels) columns.set(x, (columns.get(x) ?? 0) + 1);
    const stepColumn = [...columns].sort((a, b) => b[1] - a[1])[0]![0];
    expect(Math.abs(stepColumn - (left + right) / 2)).toBeLessThan(4);
    // Linear TAR axis: the step (TAR 0.2 -> 0.8) is 6 times as tall as the gap from it to the flat
    // curve (TAR 0.9, blue), which lies above it (smaller y).
    const redRows = redPixels.filter(([x]) => x === stepColumn).map(([, y]) => y);
    const blueY = bluePixels.reduce((s, [, y]) => s + y, 0) / bluePixels.length;
    const stepHeight = Math.max(...redRows) - Math.min(...redRows);
    expect(blueY).toBeLessThan(Math.min(...redRows));
    expect(stepHeight / (Math.min(...redRows) - blueY)).toBeGreaterThan(5.4);
    expect(stepHeight / (Math.min(...redRows) - blueY)).toBeLessThan(6.6);
  });

  it('leaves the background where no curve is drawn', () => {
    const empty = decodePng(rocChart([]).toPng());
    expect(pixelsOf(empty, red).length).toBe(0);
    expect(pixelsOf(empty, blue).length).toBe(0);
    expect(pixelsOf(empty, [255, 255, 255], 0).length).toBeGreaterThan(0.8 * 800 * 560);
    expect(pixelsOf(empty, [0, 0, 0], 0).length).toBeGreaterThan(500); // tick labels and axis titles
  });
});

describe('other charts', () => {
  it('binCounts puts the maximum in the last bin and drops values outside', () => {
    expect(binCounts([0, 0.49, 0.5, 1, 1.5, -1], 2, 0, 1)).toEqual([2, 2]);
  });

  it('histogramChart and barChart draw their series colours', () => {
    const green: Color = [0, 160, 0];
    const values = Array.from({ length: 500 }, (_, i) => Math.sin(i) * 30 + 90);
    const histogram = decodePng(histogramChart({ series: [{ name: 'angles', values, color: green }], bins: 20, xLabel: 'angle (°)' }).toPng());
    expect(pixelsOf(histogram, green).length).toBeGreaterThan(1000);
    const bars = decodePng(barChart({ categories: ['8', '4'], series: [{ name: 'FP', values: [1, 0.5], color: green }, { name: 'Q', values: [0.2, 0.1] }] }).toPng());
    expect(pixelsOf(bars, green).length).toBeGreaterThan(10000);
    expect(() => barChart({ categories: ['8'], series: [{ name: 'FP', values: [1, 2] }] })).toThrow(/series "FP" has 2 values for 1 categories/);
  });

  it('lineChart refuses a log axis that reaches 0', () => {
    expect(() => lineChart({ x: { min: 0, max: 1, scale: 'log' }, y: { min: 0, max: 1 }, series: [] })).toThrow(/log scale needs min > 0, got 0/);
  });

  it('text is drawn with the built-in font at the width it reports', () => {
    const canvas = new Canvas(100, 30);
    canvas.text(10, 5, 'TAR', [0, 0, 0], { scale: 2 });
    const ink = pixelsOf({ width: 100, rgb: canvas.pixels }, [0, 0, 0], 0);
    expect(Math.min(...ink.map(([x]) => x))).toBe(10);
    expect(Math.max(...ink.map(([x]) => x))).toBe(10 + textWidth('TAR', 2) - 1);
  });

  it('savePng writes the file', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'lowbit-eval-')), 'sub', 'roc.png');
    savePng(rocChart([{ name: 'x', roc: { far: [0, 1], tar: [0, 1] } }]), path);
    expect(decodePng(readFileSync(path)).width).toBe(800);
  });
});

describe('large inputs', () => {
  it('histogramChart takes a million values (no argument spreading)', () => {
    const values = Float64Array.from({ length: 1_000_000 }, (_, i) => (i % 1000) / 10);
    const image = decodePng(histogramChart({ series: [{ name: 'many', values, color: [0, 0, 200] }], bins: 10 }).toPng());
    expect(pixelsOf(image, [0, 0, 200]).length).toBeGreaterThan(500);
    expect(() => histogramChart({ series: [{ name: 'none', values: [] }] })).toThrow(/the series hold no finite values/);
  });
});
