// A small anti-aliased rasterizer for the synthetic faces. Every shape is a signed distance function in
// its own local coordinates (negative inside); painting maps each pixel of the shape's bounding box
// back to local coordinates through an affine map, so rotation, yaw compression and scale come free,
// and coverage = clamp(0.5 - distance_in_pixels / feather) gives soft, anti-aliased edges.

/** Float RGB canvas, values 0..255, interleaved: rgb[(y * width + x) * 3 + c]  [H, W, 3] */
export interface Canvas {
  width: number;
  height: number;
  rgb: Float32Array;
}

export type Rgb = readonly [number, number, number];

export function canvas(width: number, height: number): Canvas {
  return { width, height, rgb: new Float32Array(width * height * 3) }; // [H, W, 3]
}

/** Local -> pixel: px = a*x + b*y + tx, py = c*x + d*y + ty. */
export interface Affine {
  a: number;
  b: number;
  c: number;
  d: number;
  tx: number;
  ty: number;
}

export interface Shape {
  /** Approximate signed distance (local units) from (x, y) to the outline; negative inside. */
  sd: (x: number, y: number) => number;
  /** Local bounding box [xmin, ymin, xmax, ymax]; nothing outside it is painted. */
  bounds: readonly [number, number, number, number];
}

export interface PaintOptions {
  opacity?: number;
  /** Edge softness in pixels (1 = anti-aliased edge; larger = blurred edge, for shadows and blush). */
  feather?: number;
  /** Per-pixel coverage multiplier [H, W] (e.g. the head, so features never spill past the face). */
  mask?: Float32Array;
}

/** Alpha-blends `color` over the canvas where the shape covers it; returns nothing, mutates `target`. */
export function paint(target: Canvas, shape: Shape, toPixel: Affine, color: Rgb, options: PaintOptions = {}): void {
  const coverage = rasterize(target.width, target.height, shape, toPixel, options.feather ?? 1);
  if (!coverage) return;
  const opacity = options.opacity ?? 1;
  const { x0, y0, x1, y1, alpha } = coverage;
  const span = x1 - x0;
  for (let y = y0; y < y1; y++) {
    for (let x = x0; x < x1; x++) {
      const i = y * target.width + x;
      let a = alpha[(y - y0) * span + (x - x0)]! * opacity;
      if (options.mask) a *= options.mask[i]!;
      if (a <= 0) continue;
      const p = 3 * i;
      target.rgb[p] += a * (color[0] - target.rgb[p]!);
      target.rgb[p + 1] += a * (color[1] - target.rgb[p + 1]!);
      target.rgb[p + 2] += a * (color[2] - target.rgb[p + 2]!);
    }
  }
}

/** Coverage of a shape as a full-size [H, W] map (for masks). */
export function coverageMap(width: number, height: number, shape: Shape, toPixel: Affine, feather = 1): Float32Array {
  const map = new Float32Array(width * height); // [H, W]
  const coverage = rasterize(width, height, shape, toPixel, feather);
  if (!coverage) return map;
  const { x0, y0, x1, y1, alpha } = coverage;
  for (let y = y0; y < y1; y++) map.set(alpha.subarray((y - y0) * (x1 - x0), (y - y0 + 1) * (x1 - x0)), y * width + x0);
  return map;
}

interface Coverage {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
  /** [y1 - y0, x1 - x0] */
  alpha: Float32Array;
}

function rasterize(width: number, height: number, shape: Shape, m: Affine, feather: number): Coverage | undefined {
  const [bx0, by0, bx1, by1] = shape.bounds;
  const corners = [[bx0, by0], [bx1, by0], [bx0, by1], [bx1, by1]].map(([x, y]) => [m.a * x! + m.b * y! + m.tx, m.c * x! + m.d * y! + m.ty]);
  const pad = feather + 1;
  const x0 = Math.max(0, Math.floor(Math.min(...corners.map((p) => p[0]!)) - pad));
  const x1 = Math.min(width, Math.ceil(Math.max(...corners.map((p) => p[0]!)) + pad));
  const y0 = Math.max(0, Math.floor(Math.min(...corners.map((p) => p[1]!)) - pad));
  const y1 = Math.min(height, Math.ceil(Math.max(...corners.map((p) => p[1]!)) + pad));
  if (x0 >= x1 || y0 >= y1) return undefined;
  const det = m.a * m.d - m.b * m.c;
  if (Math.abs(det) < 1e-12) return undefined;
  // Inverse map pixel -> local, and the pixels-per-local-unit scale that turns distances into pixels.
  const ia = m.d / det, ib = -m.b / det, ic = -m.c / det, id = m.a / det;
  const pixelsPerUnit = Math.sqrt(Math.abs(det));
  const alpha = new Float32Array((y1 - y0) * (x1 - x0)); // [y1 - y0, x1 - x0]
  for (let y = y0; y < y1; y++) {
    const py = y + 0.5 - m.ty;
    for (let x = x0; x < x1; x++) {
      const px = x + 0.5 - m.tx;
      const distance = shape.sd(ia * px + ib * py, ic * px + id * py) * pixelsPerUnit;
      alpha[(y - y0) * (x1 - x0) + (x - x0)] = Math.min(1, Math.max(0, 0.5 - distance / feather));
    }
  }
  return { x0, y0, x1, y1, alpha };
}

// ---- shapes (local units) -------------------------------------------------------------------------

/** Axis-aligned ellipse; distance ~ F / |grad F| with F = (x/rx)^2 + (y/ry)^2 - 1. */
export function ellipse(cx: number, cy: number, rx: number, ry: number): Shape {
  return {
    bounds: [cx - rx, cy - ry, cx + rx, cy + ry],
    sd: (x, y) => ellipseDistance(x - cx, y - cy, rx, ry),
  };
}

export function ellipseDistance(dx: number, dy: number, rx: number, ry: number): number {
  const u = dx / rx, v = dy / ry;
  const f = u * u + v * v - 1;
  const grad = 2 * Math.hypot(u / rx, v / ry);
  return grad > 1e-9 ? f / grad : -Math.min(rx, ry);
}

/** Outline of an ellipse drawn with a pen of the given width (glasses frames). */
export function ellipseRing(cx: number, cy: number, rx: number, ry: number, penWidth: number): Shape {
  const h = penWidth / 2;
  return { bounds: [cx - rx - h, cy - ry - h, cx + rx + h, cy + ry + h], sd: (x, y) => Math.abs(ellipseDistance(x - cx, y - cy, rx, ry)) - h };
}

/** Rectangle with rounded corners, centred at (cx, cy), half sizes hx, hy. */
export function roundedRect(cx: number, cy: number, hx: number, hy: number, radius: number): Shape {
  return {
    bounds: [cx - hx, cy - hy, cx + hx, cy + hy],
    sd: (x, y) => {
      const qx = Math.abs(x - cx) - hx + radius, qy = Math.abs(y - cy) - hy + radius;
      return Math.hypot(Math.max(qx, 0), Math.max(qy, 0)) + Math.min(Math.max(qx, qy), 0) - radius;
    },
  };
}

/** Closed polygon (even-odd rule), points [x0, y0, x1, y1, ...]. */
export function polygon(points: readonly number[]): Shape {
  const n = points.length / 2;
  return {
    bounds: boundsOf(points, 0),
    sd: (x, y) => {
      let inside = false;
      let best = Infinity;
      for (let i = 0, j = n - 1; i < n; j = i++) {
        const xi = points[2 * i]!, yi = points[2 * i + 1]!, xj = points[2 * j]!, yj = points[2 * j + 1]!;
        if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
        best = Math.min(best, segmentDistance(x, y, xi, yi, xj, yj));
      }
      return inside ? -best : best;
    },
  };
}

/**
 * A pen stroke along a polyline [x0, y0, x1, y1, ...] whose half width varies linearly from vertex to
 * vertex (`halfWidths` per vertex, or one number): eyebrows, lips, mustaches, glasses temples.
 */
export function stroke(points: readonly number[], halfWidths: number | readonly number[]): Shape {
  const n = points.length / 2;
  const half = (i: number): number => (typeof halfWidths === 'number' ? halfWidths : halfWidths[i]!);
  const widest = typeof halfWidths === 'number' ? halfWidths : Math.max(...halfWidths);
  return {
    bounds: boundsOf(points, widest),
    sd: (x, y) => {
      let best = Infinity;
      for (let i = 0; i + 1 < n; i++) {
        const distance = segmentDistance(x, y, points[2 * i]!, points[2 * i + 1]!, points[2 * i + 2]!, points[2 * i + 3]!);
        best = Math.min(best, distance - (half(i) + segmentT * (half(i + 1) - half(i))));
      }
      return best;
    },
  };
}

/** Points of a quadratic Bezier curve (for smooth strokes and outlines), [x0, y0, ...]. */
export function bezier(x0: number, y0: number, cx: number, cy: number, x1: number, y1: number, segments = 8): number[] {
  const out: number[] = [];
  for (let i = 0; i <= segments; i++) {
    const t = i / segments, u = 1 - t;
    out.push(u * u * x0 + 2 * u * t * cx + t * t * x1, u * u * y0 + 2 * u * t * cy + t * t * y1);
  }
  return out;
}

export const intersect = (a: Shape, b: Shape): Shape => ({
  bounds: [Math.max(a.bounds[0], b.bounds[0]), Math.max(a.bounds[1], b.bounds[1]), Math.min(a.bounds[2], b.bounds[2]), Math.min(a.bounds[3], b.bounds[3])],
  sd: (x, y) => Math.max(a.sd(x, y), b.sd(x, y)),
});

export const union = (a: Shape, b: Shape): Shape => ({
  bounds: [Math.min(a.bounds[0], b.bounds[0]), Math.min(a.bounds[1], b.bounds[1]), Math.max(a.bounds[2], b.bounds[2]), Math.max(a.bounds[3], b.bounds[3])],
  sd: (x, y) => Math.min(a.sd(x, y), b.sd(x, y)),
});

export const subtract = (a: Shape, b: Shape): Shape => ({ bounds: a.bounds, sd: (x, y) => Math.max(a.sd(x, y), -b.sd(x, y)) });

/** Where along the segment the last segmentDistance() call's nearest point lies (0..1); a module
 * variable rather than a returned object because this runs per pixel per segment. */
let segmentT = 0;

function segmentDistance(x: number, y: number, ax: number, ay: number, bx: number, by: number): number {
  const dx = bx - ax, dy = by - ay;
  const len2 = dx * dx + dy * dy;
  segmentT = len2 > 0 ? Math.min(1, Math.max(0, ((x - ax) * dx + (y - ay) * dy) / len2)) : 0;
  const ex = x - ax - segmentT * dx, ey = y - ay - segmentT * dy;
  return Math.sqrt(ex * ex + ey * ey);
}

function boundsOf(points: readonly number[], margin: number): [number, number, number, number] {
  let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
  for (let i = 0; i < points.length; i += 2) {
    x0 = Math.min(x0, points[i]!);
    x1 = Math.max(x1, points[i]!);
    y0 = Math.min(y0, points[i + 1]!);
    y1 = Math.max(y1, points[i + 1]!);
  }
  return [x0 - margin, y0 - margin, x1 + margin, y1 + margin];
}

// ---- whole-canvas filters -------------------------------------------------------------------------

/** Separable Gaussian blur with standard deviation `sigma` pixels (edges clamped). */
export function gaussianBlur(target: Canvas, sigma: number): void {
  if (sigma < 0.2) return;
  const radius = Math.ceil(2.5 * sigma);
  const kernel = new Float32Array(2 * radius + 1);
  let total = 0;
  for (let i = -radius; i <= radius; i++) total += kernel[i + radius] = Math.exp((-i * i) / (2 * sigma * sigma));
  for (let i = 0; i < kernel.length; i++) kernel[i]! /= total;
  const { width, height } = target;
  const temp = new Float32Array(target.rgb.length); // [H, W, 3]
  blurPass(target.rgb, temp, kernel, radius, 3, 3 * width, width, height);
  blurPass(temp, target.rgb, kernel, radius, 3 * width, 3, height, width);
}

// One 1-D pass along lines of `count` pixels; `step` is the stride along the line, `lineStride` between lines.
function blurPass(src: Float32Array, dst: Float32Array, kernel: Float32Array, radius: number, step: number, lineStride: number, count: number, lines: number): void {
  for (let line = 0; line < lines; line++) {
    const base = line * lineStride;
    for (let i = 0; i < count; i++) {
      let r = 0, g = 0, b = 0;
      for (let k = -radius; k <= radius; k++) {
        const j = Math.min(count - 1, Math.max(0, i + k));
        const p = base + j * step;
        const w = kernel[k + radius]!;
        r += w * src[p]!;
        g += w * src[p + 1]!;
        b += w * src[p + 2]!;
      }
      const q = base + i * step;
      dst[q] = r;
      dst[q + 1] = g;
      dst[q + 2] = b;
    }
  }
}
