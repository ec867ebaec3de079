// The parts every chart shares: layout, axis scales (linear or log10), ticks and grid, title and axis
// labels, and the legend box. plot.ts builds line charts, ROC plots, histograms and bar charts on it.
import { GLYPH_HEIGHT, textWidth } from './font.ts';
import { BLACK, Canvas, type Color, type Rect } from './raster.ts';

export interface Tick {
  value: number;
  label: string;
}

export interface Axis {
  min: number;
  max: number;
  scale?: 'linear' | 'log';
  label?: string;
  /** Ticks to use instead of the automatic ones (e.g. category names of a bar chart). */
  ticks?: readonly Tick[];
}

export interface LegendEntry {
  name: string;
  color: Color;
  /** How the entry is drawn: a line sample (optionally dashed) or a filled box. */
  swatch: 'line' | 'box';
  dash?: readonly [number, number];
}

/** A corner inside the plot area, 'above' it (rows under the title, never over data), or 'auto' (a free corner). */
export type LegendPosition = 'auto' | 'top-right' | 'top-left' | 'bottom-right' | 'bottom-left' | 'above' | 'none';

/** tab10: distinguishable colours, assigned to series in order. */
export const PALETTE: readonly Color[] = [
  [31, 119, 180], [255, 127, 14], [44, 160, 44], [214, 39, 40], [148, 103, 189],
  [140, 86, 75], [227, 119, 194], [127, 127, 127], [188, 189, 34], [23, 190, 207],
];

export const TEXT_SCALE = 2;
const TEXT_HEIGHT = GLYPH_HEIGHT * TEXT_SCALE;
const AXIS_COLOR: Color = [60, 60, 60];
const MAJOR_GRID: Color = [222, 222, 222];
const MINOR_GRID: Color = [242, 242, 242];
const LEGEND_ROW = TEXT_HEIGHT + 8;
const SWATCH = 30;
const ENTRY_GAP = 24;

function checkAxis(axis: Axis, name: string): void {
  if (!(axis.max > axis.min)) throw new Error(`${name} axis: max (${axis.max}) must be above min (${axis.min})`);
  if (axis.scale === 'log' && !(axis.min > 0)) throw new Error(`${name} axis: a log scale needs min > 0, got ${axis.min}`);
}

const transform = (axis: Axis, v: number) => (axis.scale === 'log' ? Math.log10(v) : v);

/** Axis value -> pixel along a span starting at `start` of `length` pixels (flip for y, which grows down). */
export function project(axis: Axis, value: number, start: number, length: number, flip: boolean): number {
  const t = (transform(axis, value) - transform(axis, axis.min)) / (transform(axis, axis.max) - transform(axis, axis.min));
  return flip ? start + length - t * length : start + t * length;
}

function formatNumber(value: number, step: number): string {
  const decimals = Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
  return value.toFixed(Math.min(decimals, 10));
}

function formatPowerOfTen(exponent: number): string {
  return exponent === 0 ? '1' : exponent === 1 ? '10' : `1e${exponent}`;
}

/** Major ticks (labelled) and minor values (grid only). Linear: steps of 1, 2 or 5 x 10^k; log: decades. */
export function axisTicks(axis: Axis): { major: Tick[]; minor: number[] } {
  if (axis.ticks) return { major: [...axis.ticks], minor: [] };
  if (axis.scale === 'log') {
    const major: Tick[] = [];
    const minor: number[] = [];
    for (let e = Math.floor(Math.log10(axis.min)); e <= Math.ceil(Math.log10(axis.max)); e++) {
      const decade = 10 ** e;
      if (decade >= axis.min * (1 - 1e-9) && decade <= axis.max * (1 + 1e-9)) major.push({ value: decade, label: formatPowerOfTen(e) });
      for (let m = 2; m <= 9; m++) if (m * decade > axis.min && m * decade < axis.max) minor.push(m * decade);
    }
    return { major, minor };
  }
  const rough = (axis.max - axis.min) / 5;
  const magnitude = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 5, 10].map((m) => m * magnitude).find((s) => s >= rough * 0.999)!;
  const major: Tick[] = [];
  for (let k = Math.ceil(axis.min / step - 1e-9); k * step <= axis.max + step * 1e-9; k++) {
    const value = k * step;
    major.push({ value, label: formatNumber(Math.abs(value) < step * 1e-9 ? 0 : value, step) });
  }
  return { major, minor: [] };
}

export interface FrameOptions {
  width?: number;
  height?: number;
  title?: string;
  x: Axis;
  y: Axis;
  /** Entries of a legend drawn in rows above the plot area (room is made for it). */
  legendAbove?: readonly LegendEntry[];
}

export interface Frame {
  canvas: Canvas;
  /** The plot area, inside the axes. */
  plot: Rect;
  x: Axis;
  y: Axis;
  toPixel(x: number, y: number): [number, number];
}

/** Draws background grid, axes, ticks, labels and title; returns the canvas and the data -> pixel map. */
export function drawFrame(options: FrameOptions): Frame {
  checkAxis(options.x, 'x');
  checkAxis(options.y, 'y');
  const canvas = new Canvas(options.width ?? 800, options.height ?? 560);
  const xTicks = axisTicks(options.x);
  const yTicks = axisTicks(options.y);
  const yLabelWidth = Math.max(0, ...yTicks.major.map((t) => textWidth(t.label, TEXT_SCALE)));
  const left = 14 + (options.y.label ? TEXT_HEIGHT + 14 : 0) + yLabelWidth + 10;
  const legendRows = layoutLegendRows(options.legendAbove ?? [], canvas.width - 40);
  const titleBottom = options.title ? 24 + TEXT_HEIGHT + 16 : 24;
  const top = titleBottom + legendRows.length * LEGEND_ROW + (legendRows.length > 0 ? 8 : 0);
  const bottom = 12 + TEXT_HEIGHT + (options.x.label ? 14 + TEXT_HEIGHT : 0) + 16;
  const right = 28;
  const plot: Rect = { x: left, y: top, width: canvas.width - left - right, height: canvas.height - top - bottom };
  if (plot.width < 50 || plot.height < 50) throw new Error(`drawFrame: ${canvas.width}x${canvas.height} leaves no room to plot`);
  const px = (v: number) => Math.round(project(options.x, v, plot.x, plot.width - 1, false));
  const py = (v: number) => Math.round(project(options.y, v, plot.y, plot.height - 1, true));

  for (const v of xTicks.minor) canvas.fillRect(px(v), plot.y, 1, plot.height, MINOR_GRID);
  for (const v of yTicks.minor) canvas.fillRect(plot.x, py(v), plot.width, 1, MINOR_GRID);
  for (const { value } of xTicks.major) canvas.fillRect(px(value), plot.y, 1, plot.height, MAJOR_GRID);
  for (const { value } of yTicks.major) canvas.fillRect(plot.x, py(value), plot.width, 1, MAJOR_GRID);
  canvas.strokeRect(plot.x - 1, plot.y - 1, plot.width + 2, plot.height + 2, AXIS_COLOR);

  const below = plot.y + plot.height + 1;
  for (const { value, label } of xTicks.major) {
    canvas.fillRect(px(value), below, 1, 6, AXIS_COLOR);
    canvas.text(px(value), below + 10, label, BLACK, { scale: TEXT_SCALE, align: 'center' });
  }
  for (const { value, label } of yTicks.major) {
    canvas.fillRect(plot.x - 7, py(value), 6, 1, AXIS_COLOR);
    canvas.text(plot.x - 12, py(value), label, BLACK, { scale: TEXT_SCALE, align: 'right', baseline: 'middle' });
  }
  if (options.x.label) {
    canvas.text(plot.x + plot.width / 2, below + 10 + TEXT_HEIGHT + 12, options.x.label, BLACK, { scale: TEXT_SCALE, align: 'center' });
  }
  if (options.y.label) {
    canvas.text(14, plot.y + plot.height / 2, options.y.label, BLACK, { scale: TEXT_SCALE, align: 'center', vertical: true });
  }
  if (options.title) {
    // Drawn twice, one pixel apart: a bold title from the one-weight font.
    for (const dx of [0, 1]) canvas.text(canvas.width / 2 + dx, 22, options.title, BLACK, { scale: TEXT_SCALE, align: 'center' });
  }
  legendRows.forEach((row, r) => {
    const rowWidth = row.reduce((w, e) => w + legendEntryWidth(e), 0) - ENTRY_GAP;
    let x = (canvas.width - rowWidth) / 2;
    for (const entry of row) {
      drawLegendEntry(canvas, entry, x, titleBottom - 8 + r * LEGEND_ROW + LEGEND_ROW / 2);
      x += legendEntryWidth(entry);
    }
  });
  const toPixel = (x: number, y: number): [number, number] => [
    project(options.x, x, plot.x, plot.width - 1, false) + 0.5,
    project(options.y, y, plot.y, plot.height - 1, true) + 0.5,
  ];
  return { canvas, plot, x: options.x, y: options.y, toPixel };
}


const legendEntryWidth = (entry: LegendEntry) => SWATCH + 10 + textWidth(entry.name, TEXT_SCALE) + ENTRY_GAP;

/** Greedy wrap of legend entries into rows no wider than maxWidth. */
function layoutLegendRows(entries: readonly LegendEntry[], maxWidth: number): LegendEntry[][] {
  const rows: LegendEntry[][] = [];
  let width = Infinity;
  for (const entry of entries) {
    if (width + legendEntryWidth(entry) - ENTRY_GAP > maxWidth) {
      rows.push([]);
      width = 0;
    }
    rows[rows.length - 1]!.push(entry);
    width += legendEntryWidth(entry);
  }
  return rows;
}

/** Swatch then name, starting at x, vertically centred on `middle`. */
function drawLegendEntry(canvas: Canvas, entry: LegendEntry, x: number, middle: number): void {
  if (entry.swatch === 'box') canvas.fillRect(x + 6, middle - 8, SWATCH - 12, 16, entry.color);
  else canvas.polyline([[x, middle], [x + SWATCH, middle]], entry.color, 3, entry.dash);
  canvas.text(x + SWATCH + 10, middle, entry.name, BLACK, { scale: TEXT_SCALE, baseline: 'middle' });
}

/**
 * Draws the legend in a corner of the plot area. 'auto' takes the first corner (top-right, bottom-right,
 * top-left, bottom-left) that covers the fewest of `occupied` pixel points (the data drawn).
 */
export function drawLegend(frame: Frame, entries: readonly LegendEntry[], position: LegendPosition, occupied: readonly [number, number][]): void {
  if (position === 'none' || position === 'above' || entries.length === 0) return; // 'above': drawFrame drew it
  const { canvas, plot } = frame;
  const width = 12 + SWATCH + 10 + Math.max(...entries.map((e) => textWidth(e.name, TEXT_SCALE))) + 12;
  const height = 10 + entries.length * LEGEND_ROW;
  const inset = 12;
  const corners: Record<Exclude<LegendPosition, 'auto' | 'none' | 'above'>, Rect> = {
    'top-right': { x: plot.x + plot.width - width - inset, y: plot.y + inset, width, height },
    'bottom-right': { x: plot.x + plot.width - width - inset, y: plot.y + plot.height - height - inset, width, height },
    'top-left': { x: plot.x + inset, y: plot.y + inset, width, height },
    'bottom-left': { x: plot.x + inset, y: plot.y + plot.height - height - inset, width, height },
  };
  const covered = (r: Rect) => occupied.reduce((n, [x, y]) => n + (x >= r.x && x <= r.x + r.width && y >= r.y && y <= r.y + r.height ? 1 : 0), 0);
  const box =
    position === 'auto'
      ? Object.values(corners).reduce((best, r) => (covered(r) < covered(best) ? r : best))
      : corners[position];
  canvas.fillRect(box.x, box.y, box.width, box.height, [255, 255, 255], 0.92);
  canvas.strokeRect(box.x, box.y, box.width, box.height, [170, 170, 170]);
  entries.forEach((entry, i) => {
    drawLegendEntry(canvas, entry, box.x + 12, box.y + 5 + i * LEGEND_ROW + LEGEND_ROW / 2);
  });
}
