// Angle helpers for the quantization-error analysis: accuracy at tiny angles, centres, scatter, AQE split.
import { describe, expect, it } from 'vitest';
import {
  angleBetween,
  angleBetweenDegrees,
  classCentres,
  interClassCentreAngles,
  intraClassScatter,
  quantizationError,
  summarize,
  toDegrees,
} from '../src/eval/index.ts';

const deg = (d: number) => (d * Math.PI) / 180;
const unitAt = (degrees: number) => Float64Array.of(Math.cos(deg(degrees)), Math.sin(deg(degrees)));

describe('angleBetween', () => {
  it('is exact at 0, 90 and 180 degrees and ignores length', () => {
    expect(angleBetween(Float32Array.of(1, 0), Float32Array.of(0, 5))).toBeCloseTo(Math.PI / 2, 15);
    expect(angleBetween(Float32Array.of(2, 0), Float32Array.of(-1, 0))).toBe(Math.PI);
    expect(angleBetween(Float32Array.of(1, 2, 3), Float32Array.of(2, 4, 6))).toBe(0);
    expect(angleBetweenDegrees(Float32Array.of(1, 0), Float32Array.of(1, 1))).toBeCloseTo(45, 12);
  });

  it('keeps full relative precision for tiny angles, where arccos of the cosine gives 0', () => {
    for (const angle of [1e-9, 1e-6, 1e-4]) {
      const b = Float64Array.of(Math.cos(angle), Math.sin(angle));
      expect(Math.abs(angleBetween(Float64Array.of(1, 0), b) - angle) / angle).toBeLessThan(1e-7);
    }
    expect(Math.acos(Math.cos(1e-9))).toBe(0); // why the atan2 form is needed
  });

  it('names the failing input', () => {
    expect(() => angleBetween(Float32Array.of(0, 0), Float32Array.of(1, 0))).toThrow(/zero vector is undefined \(\|a\| = 0, \|b\| = 1\)/);
    expect(() => angleBetween(Float32Array.of(1, 0), Float32Array.of(1, 0, 0))).toThrow(/vectors have 2 and 3 values/);
  });
});

describe('class statistics', () => {
  const features = [Float32Array.of(2, 0), Float32Array.of(0, 3), Float32Array.of(-4, 0)];
  const labels = ['x', 'x', 'y'];

  it('class centre = mean of the normalized features', () => {
    const centres = classCentres(features, labels);
    expect(Array.from(centres.get('x')!)).toEqual([0.5, 0.5]);
    expect(Array.from(centres.get('y')!)).toEqual([-1, 0]);
  });

  it('intra-class scatter = mean angle of samples to their centre', () => {
    const scatter = intraClassScatter(features, labels);
    expect(Array.from(scatter.sampleAngles, toDegrees).map((a) => Math.round(a * 1e9) / 1e9)).toEqual([45, 45, 0]);
    expect(toDegrees(scatter.perClass.get('x')!)).toBeCloseTo(45, 12);
    expect(toDegrees(scatter.meanAngle)).toBeCloseTo(30, 12);
  });

  it('inter-class centre angles cover every pair of centres', () => {
    const centres = new Map([[0, unitAt(0)], [1, unitAt(90)], [2, unitAt(180)]]);
    const { angles, summary } = interClassCentreAngles(centres);
    expect(Array.from(angles, toDegrees).map(Math.round)).toEqual([90, 180, 90]);
    expect(toDegrees(summary.mean)).toBeCloseTo(120, 10);
    expect(toDegrees(summary.min)).toBeCloseTo(90, 10);
    expect(() => interClassCentreAngles(new Map([[0, unitAt(0)]]))).toThrow(/at least 2 class centres, got 1/);
  });

  it('summarize uses the population std', () => {
    expect(summarize([1, 3])).toEqual({ count: 2, mean: 2, std: 1, min: 1, max: 3 });
  });

  it('names mismatched labels', () => {
    expect(() => classCentres(features, ['x'])).toThrow(/3 features but 1 labels/);
  });
});

describe('quantizationError', () => {
  it('a rigid rotation of a class is all class error, no individual error', () => {
    const fp = [unitAt(0), unitAt(20), unitAt(100)];
    const q = [unitAt(10), unitAt(30), unitAt(100)];
    const result = quantizationError(fp, q, [0, 0, 1]);
    expect(Array.from(result.sampleError, toDegrees).map((a) => Math.round(a * 1e6) / 1e6)).toEqual([10, 10, 0]);
    expect(toDegrees(result.classError.get(0)!)).toBeCloseTo(10, 10);
    expect(result.classError.get(1)).toBe(0);
    for (const e of result.individualError) expect(e).toBeLessThan(1e-12);
  });

  it('theta_Q = |AQE(i) - AQE(class)| when samples rotate by different amounts', () => {
    // FP at 0 and 20 degrees (centre 10); quantized at 10 and 50 (centre 30): class error 20 degrees.
    const result = quantizationError([unitAt(0), unitAt(20)], [unitAt(10), unitAt(50)], ['k', 'k']);
    expect(toDegrees(result.classError.get('k')!)).toBeCloseTo(20, 10);
    expect(Array.from(result.individualError, toDegrees).map((a) => Math.round(a * 1e6) / 1e6)).toEqual([10, 10]);
    expect(toDegrees(result.meanSampleError)).toBeCloseTo(20, 10);
    expect(toDegrees(result.meanIndividualError)).toBeCloseTo(10, 10);
  });

  it('names mismatched inputs', () => {
    expect(() => quantizationError([unitAt(0)], [], [0])).toThrow(/1 full-precision but 0 quantized/);
    expect(() => quantizationError([unitAt(0)], [Float64Array.of(1, 0, 0)], [0])).toThrow(/quantized\[0\] has 3 values, expected 2/);
  });
});
