// A tiny RGB raster canvas for plots: filled rectangles, antialiased thick lines and polylines (solid or
// dashed), and bitmap text (font.ts) at integer scales, optionally rotated for vertical axis labels.
import { GLYPH_ADVANCE, GLYPH_HEIGHT, GLYPH_WIDTH, glyph, textWidth } from './font.ts';
import { encodePng } from './png.ts';

export type Color = readonly [number, number, number];

export const WHITE: Color = [255, 255, 255];
export const BLACK: Color = [0, 0, 0];

export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface TextOptions {
  scale?: number;
  /** Where x is on the text: at its start, middle or end (along the reading direction). */
  align?: 'left' | 'center' | 'right';
  /** Where y is: the top of the glyph box or its middle (ignoring descenders). */
  baseline?: 'top' | 'middle';
  /** Rotate 90 degrees counter-clockwise (text reads bottom to top), for y-axis labels. */
  vertical?: boolean;
}

export class Canvas {
  readonly pixels: Uint8Array;
  /** Drawing outside this rectangle is dropped (e.g. curves leaving the plot area). */
  clip: Rect | null = null;

  constructor(
    readonly width: number,
    readonly height: number,
    background: Color = WHITE,
  ) {
    if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
      throw new Error(`Canvas: size must be positive integers, got ${width}x${height}`);
    }
    this.pixels = new Uint8Array(width * height * 3);
    for (let i = 0; i < this.pixels.length; i += 3) this.pixels.set(background, i);
  }

  /** Mixes `color` into pixel (x, y) with opacity alpha in [0, 1]. */
  blend(x: number, y: number, color: Color, alpha = 1): void {
    if (x < 0 || y < 0 || x >= this.width || y >= this.height || alpha <= 0) return;
    const c = this.clip;
    if (c && (x < c.x || y < c.y || x >= c.x + c.width || y >= c.y + c.height)) return;
    const i = (y * this.width + x) * 3;
    const a = Math.min(alpha, 1);
    for (let k = 0; k < 3; k++) this.pixels[i + k] = Math.round(this.pixels[i + k]! * (1 - a) + color[k]! * a);
  }

  pixel(x: number, y: number): Color {
    const i = (y * this.width + x) * 3;
    return [this.pixels[i]!, this.pixels[i + 1]!, this.pixels[i + 2]!];
  }

  fillRect(x: number, y: number, width: number, height: number, color: Color, alpha = 1): void {
    const x0 = Math.round(x);
    const y0 = Math.round(y);
    const x1 = Math.round(x + width);
    const y1 = Math.round(y + height);
    for (let py = y0; py < y1; py++) for (let px = x0; px < x1; px++) this.blend(px, py, color, alpha);
  }

  strokeRect(x: number, y: number, width: number, height: number, color: Color): void {
    this.fillRect(x, y, width, 1, color);
    this.fillRect(x, y + height - 1, width, 1, color);
    this.fillRect(x, y, 1, height, color);
    this.fillRect(x + width - 1, y, 1, height, color);
  }

  /** Antialiased segment of the given width: coverage falls off over one pixel at the edges. */
  line(x0: number, y0: number, x1: number, y1: number, color: Color, width = 1): void {
    const half = width / 2;
    const dx = x1 - x0;
    const dy = y1 - y0;
    const lengthSq = dx * dx + dy * dy;
    const left = Math.floor(Math.min(x0, x1) - half - 1);
    const right = Math.ceil(Math.max(x0, x1) + half + 1);
    const top = Math.floor(Math.min(y0, y1) - half - 1);
    const bottom = Math.ceil(Math.max(y0, y1) + half + 1);
    for (let py = Math.max(top, 0); py <= Math.min(bottom, this.height - 1); py++) {
      for (let px = Math.max(left, 0); px <= Math.min(right, this.width - 1); px++) {
        const cx = px + 0.5;
        const cy = py + 0.5;
        const t = lengthSq === 0 ? 0 : Math.max(0, Math.min(1, ((cx - x0) * dx + (cy - y0) * dy) / lengthSq));
        const distance = Math.hypot(cx - (x0 + t * dx), cy - (y0 + t * dy));
        this.blend(px, py, color, half + 0.5 - distance);
      }
    }
  }

  /** Connected segments; dash = [on, off] lengths in pixels along the path. */
  polyline(points: readonly (readonly [number, number])[], color: Color, width = 1, dash?: readonly [number, number]): void {
    let travelled = 0;
    for (let i = 1; i < points.length; i++) {
      const [x0, y0] = points[i - 1]!;
      const [x1, y1] = points[i]!;
      const length = Math.hypot(x1 - x0, y1 - y0);
      if (!dash) {
        this.line(x0, y0, x1, y1, color, width);
        continue;
      }
      const period = dash[0] + dash[1];
      // Walk the segment in pieces that end at dash boundaries, drawing the "on" pieces.
      for (let s = 0; s < length; ) {
        const phase = (travelled + s) % period;
        const on = phase < dash[0];
        const step = Math.min(length - s, on ? dash[0] - phase : period - phase);
        if (on) {
          const a = s / length;
          const b = (s + step) / length;
          this.line(x0 + a * (x1 - x0), y0 + a * (y1 - y0), x0 + b * (x1 - x0), y0 + b * (y1 - y0), color, width);
        }
        s += step;
      }
      travelled += length;
    }
  }

  text(x: number, y: number, content: string, color: Color, options: TextOptions = {}): void {
    const scale = options.scale ?? 1;
    const width = textWidth(content, scale);
    const along = options.align === 'center' ? -width / 2 : options.align === 'right' ? -width : 0;
    const across = options.baseline === 'middle' ? (-(GLYPH_HEIGHT - 1) * scale) / 2 : 0;
    const startU = Math.round(along);
    const startV = Math.round(across);
    [...content].forEach((char, index) => {
      const rows = glyph(char);
      for (let gy = 0; gy < GLYPH_HEIGHT; gy++) {
        for (let gx = 0; gx < GLYPH_WIDTH; gx++) {
          if (!(rows[gy]! & (1 << (GLYPH_WIDTH - 1 - gx)))) continue;
          for (let sy = 0; sy < scale; sy++) {
            for (let sx = 0; sx < scale; sx++) {
              const u = startU + (index * GLYPH_ADVANCE + gx) * scale + sx; // along the text
              const v = startV + gy * scale + sy; // down the glyph
              if (options.vertical) this.blend(Math.round(x) + v, Math.round(y) - u - 1, color);
              else this.blend(Math.round(x) + u, Math.round(y) + v, color);
            }
          }
        }
      }
    });
  }

  toPng(): Buffer {
    return encodePng(this.width, this.height, this.pixels);
  }
}
