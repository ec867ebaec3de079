// Bad input fails loudly, and the message names the op, the shapes and the limit at fault.
import { describe, expect, it } from 'vitest';
import { gpu, GpuError } from '../src/gpu/device.ts';
import { launch } from '../src/gpu/kernel.ts';
import { fromArray, zeros } from '../src/ops/creation.ts';
import { add, clamp, div, mul, pow } from '../src/ops/elementwise.ts';
import { reshape } from '../src/ops/layout.ts';
import { matmul } from '../src/ops/matmul.ts';
import { sum } from '../src/ops/reduce.ts';
import { crossEntropy, softmax } from '../src/ops/softmax.ts';
import { ShapeError } from '../src/shape.ts';
import { DisposedError, LimitError, Tensor } from '../src/tensor.ts';

describe('bad input', () => {
  it('mismatched shapes name the op and both shapes', () => {
    const a = zeros([2, 3]);
    const b = zeros([4]);
    expect(() => add(a, b)).toThrow(ShapeError);
    expect(() => add(a, b)).toThrow('add: shapes [2,3] and [4] cannot be broadcast');
    expect(() => matmul(a, zeros([2, 3]))).toThrow('matmul: inner dimensions differ: [2,3] x [2,3] (K=3 vs 2)');
    expect(() => reshape(a, [4, 2])).toThrow('reshape: cannot reshape [2,3] (6 elements) to [4,2]');
  });

  it('wrong ranks and axes', () => {
    expect(() => matmul(zeros([3]), zeros([3, 2]))).toThrow(/matmul: both operands need rank >= 2, got \[3\]/);
    expect(() => crossEntropy(zeros([2, 3, 4]), [0, 1])).toThrow(/cross_entropy: logits must be \[N, C\], got \[2,3,4\]/);
    expect(() => sum(zeros([2, 3]), 2)).toThrow('sum: axis 2 is out of range for a tensor of rank 2');
    expect(() => softmax(zeros([2, 3]), -3)).toThrow('softmax: axis -3 is out of range for a tensor of rank 2');
  });

  it('non-finite scalars', () => {
    const x = zeros([2]);
    expect(() => mul(x, NaN)).toThrow('mul: the scalar operand must be a finite number, got NaN');
    expect(() => add(x, Infinity)).toThrow('add: the scalar operand must be a finite number, got Infinity');
    expect(() => pow(x, NaN)).toThrow('pow: the exponent must be a finite number, got NaN');
    expect(() => div(x, 0)).toThrow('div: dividing [2] by the scalar 0');
    expect(() => clamp(x, NaN, 1)).toThrow(/clamp: bounds must not be NaN/);
    expect(() => clamp(x, 2, 1)).toThrow('clamp: lower bound 2 is above upper bound 1');
  });

  it('a tensor used after dispose names the tensor and its shape', () => {
    const x = fromArray([1, 2, 3], [3]);
    x.name = 'weights';
    x.dispose();
    expect(() => add(x, x)).toThrow(DisposedError);
    expect(() => add(x, x)).toThrow(/tensor #\d+ 'weights' of shape \[3\] was used after dispose\(\)/);
  });

  it('reading a disposed tensor rejects', async () => {
    const x = fromArray([1], [1]);
    x.dispose();
    await expect(x.toArray()).rejects.toThrow(DisposedError);
  });

  it('a tensor over the storage-binding limit names the op, the shape and the limit', () => {
    const limitMiB = gpu().maxBindingBytes / 2 ** 20;
    const rows = Math.ceil(gpu().maxBindingBytes / 4 / 1024) + 1;
    expect(() => zeros([rows, 1024])).toThrow(LimitError);
    expect(() => zeros([rows, 1024])).toThrow(new RegExp(`fill: a tensor of shape \\[${rows},1024\\] needs [\\d.]+ MiB, over the device's storage-binding limit of ${limitMiB} MiB`));
    const a = zeros([rows, 1]);
    const b = zeros([1, 1024]);
    expect(() => matmul(a, b)).toThrow(new RegExp(`matmul: a tensor of shape \\[${rows},1024\\]`));
  });

  it('fromArray checks the data against the shape and the dtype', () => {
    expect(() => fromArray([1, 2, 3], [2, 2])).toThrow('fromArray: 3 values do not fill shape [2,2] (4 elements)');
    expect(() => fromArray([1.5], [1], 'i32')).toThrow('fromArray: value 1.5 at index 0 is not an integer (dtype i32)');
    expect(() => Tensor.empty([2, -1], 'zeros')).toThrow(/zeros: invalid shape \[2,-1\]/);
  });

  it('i32 tensors are refused by float ops', () => {
    expect(() => add(fromArray([1], [1], 'i32'), zeros([1]))).toThrow('add: expected f32 tensors, got i32 [1]');
  });

  it('a GPU-side error (a pipeline that cannot be built) surfaces at the next sync, naming the kernel', async () => {
    const y = zeros([4]);
    launch({ name: 'broken', shader: 'elementwise', entry: 'no_such_entry', inputs: [], outputs: [y], workgroups: [1, 1, 1], flops: 0, bytes: 0 });
    const failure = gpu().recorder.sync();
    await expect(failure).rejects.toThrow(GpuError);
    await expect(failure).rejects.toThrow(/elementwise:no_such_entry/);
    // The error is reported once and the device keeps working (the failed submit's commands, the
    // zeros fill of y included, were dropped as a whole: WebGPU invalidates the command buffer).
    await gpu().recorder.sync();
    expect(Array.from(await add(fromArray([0, 1, 2, 3], [4]), 1).toArray())).toEqual([1, 2, 3, 4]);
  });
});
