// Differentiable elementwise ops: each forward launches a kernel, its backward sits right below it.
// NOTE: a backward returns fresh tensors or the incoming gradient itself (backward.ts makes that safe).
import { runBinary, runFill, runUnary, type UnaryOp } from '../../kernels/elementwise.ts';
import { record } from '../autograd.ts';
import { fmt, type Shape } from '../shape.ts';
import { Tensor } from '../tensor.ts';
import { sumToOwned } from './reduce.ts';

export function checkFloat(op: string, ...tensors: Tensor[]): void {
  for (const t of tensors) {
    if (t.dtype !== 'f32') throw new TypeError(`${op}: expected f32 tensors, got ${t.dtype} ${fmt(t.shape)}`);
  }
}

export function checkFinite(op: string, what: string, value: number): void {
  if (!Number.isFinite(value)) throw new RangeError(`${op}: ${what} must be a finite number, got ${value}`);
}

/** A constant tensor (no gradient). */
export function fill(shape: Shape, value: number): Tensor {
  if (Number.isNaN(value)) throw new RangeError(`fill: value is NaN for shape ${fmt(shape)}`);
  return runFill(shape, value);
}

// ---- binary (tensor, tensor) with broadcasting; a number operand becomes an affine op ----------

export function add(a: Tensor, b: Tensor | number): Tensor {
  if (typeof b === 'number') return affine(a, 1, b, 'add');
  checkFloat('add', a, b);
  const out = runBinary('add', a, b);
  return record(out, 'add', [a, b], (g) => [
    a.requiresGrad ? sumToOwned(g, a.shape) : null,
    b.requiresGrad ? sumToOwned(g, b.shape) : null,
  ]);
}

export function sub(a: Tensor, b: Tensor | number): Tensor {
  if (typeof b === 'number') return affine(a, 1, -b, 'sub');
  checkFloat('sub', a, b);
  const out = runBinary('sub', a, b);
  return record(out, 'sub', [a, b], (g) => [
    a.requiresGrad ? sumToOwned(g, a.shape) : null,
    b.requiresGrad ? sumToOwned(runUnary('neg', g), b.shape) : null,
  ]);
}

export function mul(a: Tensor, b: Tensor | number): Tensor {
  if (typeof b === 'number') return affine(a, b, 0, 'mul');
  checkFloat('mul', a, b);
  const out = runBinary('mul', a, b);
  return record(out, 'mul', [a, b], (g) => [
    a.requiresGrad ? sumToOwned(runBinary('mul', g, b), a.shape) : null,
    b.requiresGrad ? sumToOwned(runBinary('mul', g, a), b.shape) : null,
  ]);
}

export function div(a: Tensor, b: Tensor | number): Tensor {
  if (typeof b === 'number') {
    if (b === 0) throw new RangeError(`div: dividing ${fmt(a.shape)} by the scalar 0`);
    return affine(a, 1 / b, 0, 'div');
  }
  checkFloat('div', a, b);
  const out = runBinary('div', a, b);
  return record(out, 'div', [a, b], (g) => {
    const gOverB = runBinary('div', g, b);
    // d(a/b)/db = -a/b^2 = -(out/b)
    const gb = b.requiresGrad ? sumToOwned(runUnary('neg', runBinary('mul', gOverB, out)), b.shape) : null;
    return [a.requiresGrad ? sumToOwned(gOverB, a.shape) : null, gb];
  });
}

/** atan2(y, x) elementwise with broadcasting; d/dy = x / r^2, d/dx = -y / r^2 (r^2 = x^2 + y^2). */
export function atan2(y: Tensor, x: Tensor): Tensor {
  checkFloat('atan2', y, x);
  const out = runBinary('atan2', y, x);
  return record(out, 'atan2', [y, x], (g) => {
    const r2 = runBinary('add', runBinary('mul', x, x), runBinary('mul', y, y));
    const gOverR2 = runBinary('div', g, r2);
    return [
      y.requiresGrad ? sumToOwned(runBinary('mul', gOverR2, x), y.shape) : null,
      x.requiresGrad ? sumToOwned(runUnary('neg', runBinary('mul', gOverR2, y)), x.shape) : null,
    ];
  });
}

/** s*x + t. */
export function affine(x: Tensor, s: number, t: number, op = 'affine'): Tensor {
  checkFloat(op, x);
  checkFinite(op, 'the scalar operand', s);
  checkFinite(op, 'the scalar operand', t);
  const out = runUnary('affine', x, x.shape, s, t);
  return record(out, op, [x], (g) => [runUnary('affine', g, g.shape, s, 0)]);
}

export function maximum(a: Tensor, b: Tensor): Tensor {
  checkFloat('maximum', a, b);
  if (a.requiresGrad || b.requiresGrad) throw new Error('maximum: not differentiable in lowbit yet; use relu or clamp');
  return runBinary('maximum', a, b);
}

/** 1 where a == b, else 0 (no gradient). */
export function eq(a: Tensor, b: Tensor): Tensor {
  return runBinary('eq', a, b);
}

/** 1 where a > b, else 0 (no gradient). */
export function gt(a: Tensor, b: Tensor): Tensor {
  return runBinary('gt', a, b);
}

// ---- unary ---------------------------------------------------------------------------------------

function unary(op: UnaryOp, x: Tensor, backward: (g: Tensor, y: Tensor) => Tensor, s0 = 0, s1 = 0): Tensor {
  checkFloat(op, x);
  const y = runUnary(op, x, x.shape, s0, s1);
  return record(y, op, [x], (g) => [backward(g, y)]);
}

export const neg = (x: Tensor): Tensor => unary('neg', x, (g) => runUnary('neg', g));
export const exp = (x: Tensor): Tensor => unary('exp', x, (g, y) => runBinary('mul', g, y));
export const log = (x: Tensor): Tensor => unary('log', x, (g) => runBinary('div', g, x));
// d sqrt(x) = 1 / (2 sqrt(x))
export const sqrt = (x: Tensor): Tensor => unary('sqrt', x, (g, y) => runBinary('div', g, runUnary('affine', y, y.shape, 2, 0)));
export const relu = (x: Tensor): Tensor => unary('relu', x, (g) => runBinary('relu_grad', g, x));
export const abs = (x: Tensor): Tensor => unary('abs', x, (g) => runBinary('mul', g, runUnary('sign', x)));
// d tanh = 1 - y^2
export const tanh = (x: Tensor): Tensor =>
  unary('tanh', x, (g, y) => runBinary('mul', g, runUnary('affine', runUnary('pow', y, y.shape, 2), y.shape, -1, 1)));
// d sigmoid = y (1 - y)
export const sigmoid = (x: Tensor): Tensor =>
  unary('sigmoid', x, (g, y) => runBinary('mul', runBinary('mul', g, y), runUnary('affine', y, y.shape, -1, 1)));

export function pow(x: Tensor, exponent: number): Tensor {
  checkFinite('pow', 'the exponent', exponent);
  // d x^p = p x^(p-1)
  return unary('pow', x, (g) => runBinary('mul', g, runUnary('affine', runUnary('pow', x, x.shape, exponent - 1), x.shape, exponent, 0)), exponent);
}

export function clamp(x: Tensor, lo: number, hi: number): Tensor {
  if (Number.isNaN(lo) || Number.isNaN(hi)) throw new RangeError(`clamp: bounds must not be NaN, got [${lo}, ${hi}]`);
  if (lo > hi) throw new RangeError(`clamp: lower bound ${lo} is above upper bound ${hi}`);
  const bound = (v: number): number => Math.max(-3.4e38, Math.min(3.4e38, v)); // ±Infinity allowed: f32-safe
  const [l, h] = [bound(lo), bound(hi)];
  return unary('clamp', x, (g) => runBinary('clamp_grad', g, x, l, h), l, h);
}
