// Charts as PNG images, with no dependencies: line charts (several series, linear or log axes), ROC plots
// (log FAR axis), histograms (several overlaid series) and grouped bar charts. Each returns a Canvas;
// savePng writes it. Built on chart-frame.ts (axes, legend), raster.ts (drawing) and png.ts (encoding).
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { PALETTE, drawFrame, drawLegend, type Axis, type Frame, type LegendEntry, type LegendPosition } from './chart-frame.ts';
import type { Canvas, Color } from './raster.ts';

export { PALETTE, type Axis, type LegendPosition } from './chart-frame.ts';
export { Canvas, type Color } from './raster.ts';

type Point = readonly [number, number];

export interface LineSeries {
  name: string;
  points: readonly Point[];
  color?: Color;
  /** Line width in pixels; default 2.5. */
  width?: number;
  /** [on, off] pixel lengths, so curves stay apart in grey-scale print too. */
  dash?: readonly [number, number];
}

export interface ChartOptions {
  title?: string;
  width?: number;
  height?: number;
  legend?: LegendPosition;
}

export interface LineChartOptions extends ChartOptions {
  x: Axis;
  y: Axis;
  series: readonly LineSeries[];
}

/**
 * Cuts a polyline where it leaves a log axis' domain (values below the axis min, including 0): returns
 * the runs that remain, each a polyline in data space with the crossing points interpolated linearly.
 */
function clipToLogDomain(points: readonly Point[], frame: Frame): Point[][] {
  const xMin = frame.x.scale === 'log' ? frame.x.min : -Infinity;
  const yMin = frame.y.scale === 'log' ? frame.y.min : -Infinity;
  const runs: Point[][] = [];
  let run: Point[] = [];
  const inside = ([x, y]: Point) => x >= xMin && y >= yMin;
  const crossing = (from: Point, to: Point): Point => {
    // Move `from` (outside) along the segment to where it enters the domain.
    let t = 0;
    if (from[0] < xMin) t = Math.max(t, (xMin - from[0]) / (to[0] - from[0]));
    if (from[1] < yMin) t = Math.max(t, (yMin - from[1]) / (to[1] - from[1]));
    return [from[0] + t * (to[0] - from[0]), from[1] + t * (to[1] - from[1])];
  };
  points.forEach((point, i) => {
    const previous = points[i - 1];
    if (inside(point)) {
      if (run.length === 0 && previous) run.push(crossing(previous, point));
      run.push(point);
    } else if (run.length > 0) {
      run.push(crossing(point, previous!));
      runs.push(run);
      run = [];
    }
  });
  if (run.length > 0) runs.push(run);
  return runs.filter((r) => r.length > 1 || points.length === 1);
}

/** Pixel points along the drawn data, every few pixels, for the legend to avoid. */
function sampleAlong(pixels: readonly Point[]): [number, number][] {
  const samples: [number, number][] = [];
  for (let i = 0; i < pixels.length; i++) {
    const [x1, y1] = pixels[i]!;
    const [x0, y0] = pixels[i - 1] ?? pixels[i]!;
    const steps = Math.max(1, Math.ceil(Math.hypot(x1 - x0, y1 - y0) / 4));
    for (let s = 1; s <= steps; s++) samples.push([x0 + ((x1 - x0) * s) / steps, y0 + ((y1 - y0) * s) / steps]);
  }
  return samples;
}

const colorOf = (series: { color?: Color }, index: number): Color => series.color ?? PALETTE[index % PALETTE.length]!;

export function lineChart(options: LineChartOptions): Canvas {
  const entries = options.series.map((series, i): LegendEntry => ({
    name: series.name,
    color: colorOf(series, i),
    swatch: 'line',
    ...(series.dash ? { dash: series.dash } : {}),
  }));
  const legend = options.legend ?? 'auto';
  const frame = drawFrame({ ...options, legendAbove: legend === 'above' ? entries : undefined });
  const { canvas, plot } = frame;
  const occupied: [number, number][] = [];
  options.series.forEach((series, i) => {
    const color = colorOf(series, i);
    canvas.clip = plot;
    for (const run of clipToLogDomain(series.points, frame)) {
      const pixels = run.map(([x, y]) => frame.toPixel(x, y));
      if (pixels.length === 1) canvas.line(pixels[0]![0], pixels[0]![1], pixels[0]![0], pixels[0]![1], color, (series.width ?? 2.5) + 2);
      else canvas.polyline(pixels, color, series.width ?? 2.5, series.dash);
      occupied.push(...sampleAlong(pixels));
    }
    canvas.clip = null;
  });
  drawLegend(frame, entries, legend, occupied);
  return canvas;
}

export interface RocSeries {
  name: string;
  roc: { far: ArrayLike<number>; tar: ArrayLike<number> };
  color?: Color;
  dash?: readonly [number, number];
}

/** TAR vs FAR with a log FAR axis (default 1e-4 .. 1), the form face verification papers use. */
export function rocChart(curves: readonly RocSeries[], options: ChartOptions & { minFar?: number } = {}): Canvas {
  return lineChart({
    title: options.title ?? 'ROC',
    x: { min: options.minFar ?? 1e-4, max: 1, scale: 'log', label: 'False accept rate (FAR)' },
    y: { min: 0, max: 1, label: 'True accept rate (TAR)' },
    series: curves.map((curve) => ({
      name: curve.name,
      points: Array.from(curve.roc.far, (far, i): Point => [far, curve.roc.tar[i]!]),
      ...(curve.color ? { color: curve.color } : {}),
      ...(curve.dash ? { dash: curve.dash } : {}),
    })),
    ...(options.width ? { width: options.width } : {}),
    ...(options.height ? { height: options.height } : {}),
    legend: options.legend ?? 'bottom-right',
  });
}

export interface HistogramOptions extends ChartOptions {
  series: readonly { name: string; values: ArrayLike<number>; color?: Color }[];
  bins?: number;
  /** Value range of the bins; default the range of all values. */
  range?: readonly [number, number];
  /** 'count' (default) or 'fraction' of each series' values per bin, to compare series of different sizes. */
  normalize?: 'count' | 'fraction';
  xLabel?: string;
  yLabel?: string;
}

/** Bin counts of values in [min, max] (the last bin includes max); values outside are left out. */
export function binCounts(values: ArrayLike<number>, bins: number, min: number, max: number): number[] {
  const counts = new Array<number>(bins).fill(0);
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!(v >= min && v <= max)) continue;
    counts[Math.min(bins - 1, Math.floor(((v - min) / (max - min)) * bins))]!++;
  }
  return counts;
}

/** Overlaid histograms: translucent bars with a solid outline per series. */
export function histogramChart(options: HistogramOptions): Canvas {
  const bins = options.bins ?? 30;
  if (!Number.isInteger(bins) || bins < 1) throw new Error(`histogramChart: bins must be a positive integer, got ${bins}`);
  // A loop, not Math.min(...values): spreading 10^5+ values overflows the call stack.
  let [lowest, highest] = [Infinity, -Infinity];
  for (const { values } of options.series) {
    for (let i = 0; i < values.length; i++) {
      if (Number.isFinite(values[i]!)) [lowest, highest] = [Math.min(lowest, values[i]!), Math.max(highest, values[i]!)];
    }
  }
  if (!(lowest <= highest)) throw new Error('histogramChart: the series hold no finite values');
  let [min, max] = options.range ?? [lowest, highest];
  if (max === min) [min, max] = [min - 0.5, max + 0.5];
  const heights = options.series.map((s) => {
    const counts = binCounts(s.values, bins, min, max);
    return options.normalize === 'fraction' ? counts.map((c) => c / Math.max(1, s.values.length)) : counts;
  });
  const top = Math.max(...heights.flat(), 1e-12) * 1.08;
  const entries = options.series.map((s, i): LegendEntry => ({ name: s.name, color: colorOf(s, i), swatch: 'box' }));
  const legend = options.legend ?? 'auto';
  const frame = drawFrame({
    ...options,
    legendAbove: legend === 'above' ? entries : undefined,
    x: { min, max, ...(options.xLabel ? { label: options.xLabel } : {}) },
    y: { min: 0, max: top, label: options.yLabel ?? (options.normalize === 'fraction' ? 'fraction' : 'count') },
  });
  const { canvas, plot } = frame;
  const occupied: [number, number][] = [];
  canvas.clip = plot;
  heights.forEach((series, i) => {
    const color = entries[i]!.color;
    const outline: [number, number][] = [frame.toPixel(min, 0)];
    series.forEach((h, b) => {
      const [x0, y] = frame.toPixel(min + ((max - min) * b) / bins, h);
      const [x1, y0] = frame.toPixel(min + ((max - min) * (b + 1)) / bins, 0);
      canvas.fillRect(x0, y, x1 - x0, y0 - y, color, 0.3);
      outline.push([x0, y], [x1, y]);
      occupied.push([(x0 + x1) / 2, y]);
    });
    outline.push(frame.toPixel(max, 0));
    canvas.polyline(outline, color, 2);
  });
  canvas.clip = null;
  drawLegend(frame, entries, legend, occupied);
  return canvas;
}

export interface BarChartOptions extends ChartOptions {
  categories: readonly string[];
  series: readonly { name: string; values: readonly number[]; color?: Color }[];
  xLabel?: string;
  yLabel?: string;
  /** Value axis range; default 0 (or the lowest value, if negative) to the highest value plus 8%. */
  yRange?: readonly [number, number];
}

/** Grouped bars: one group per category, one bar per series inside it. */
export function barChart(options: BarChartOptions): Canvas {
  options.series.forEach((s) => {
    if (s.values.length !== options.categories.length) {
      throw new Error(`barChart: series "${s.name}" has ${s.values.length} values for ${options.categories.length} categories`);
    }
  });
  const values = options.series.flatMap((s) => s.values);
  const [low, high] = options.yRange ?? [Math.min(0, ...values), Math.max(...values, 1e-12) * 1.08];
  const groups = options.categories.length;
  const entries = options.series.map((s, i): LegendEntry => ({ name: s.name, color: colorOf(s, i), swatch: 'box' }));
  // Bars fill every corner of the plot, so the legend goes above it unless asked otherwise.
  const legend = options.legend ?? (options.series.length > 1 ? 'above' : 'none');
  const frame = drawFrame({
    ...options,
    legendAbove: legend === 'above' ? entries : undefined,
    x: { min: 0, max: groups, ticks: options.categories.map((label, i) => ({ value: i + 0.5, label })), ...(options.xLabel ? { label: options.xLabel } : {}) },
    y: { min: low, max: high, ...(options.yLabel ? { label: options.yLabel } : {}) },
  });
  const { canvas, plot } = frame;
  const occupied: [number, number][] = [];
  const barWidth = 0.8 / Math.max(1, options.series.length);
  canvas.clip = plot;
  options.series.forEach((series, s) => {
    const color = entries[s]!.color;
    series.values.forEach((value, g) => {
      const [x0, yValue] = frame.toPixel(g + 0.1 + s * barWidth, value);
      const [x1, yZero] = frame.toPixel(g + 0.1 + (s + 1) * barWidth, Math.max(low, 0));
      canvas.fillRect(x0, Math.min(yValue, yZero), x1 - x0 - 1, Math.abs(yZero - yValue), color);
      occupied.push([(x0 + x1) / 2, yValue], [(x0 + x1) / 2, (yValue + yZero) / 2]);
    });
  });
  canvas.clip = null;
  drawLegend(frame, entries, legend, occupied);
  return canvas;
}

/** Writes the chart as a PNG file, creating the folder if needed. */
export function savePng(canvas: Canvas, path: string): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, canvas.toPng());
}
