// lowbit: the public API.
export { initGpu as init, initGpu, gpu, GpuError, type Gpu } from './gpu/device.ts';
export { Tensor, tidy, keep, dispose, DisposedError, LimitError, type DType } from './tensor.ts';
export { ShapeError, type Shape } from './shape.ts';
export { noGrad, isGradEnabled } from './autograd.ts';
export { backward } from './backward.ts';
export * from './ops/creation.ts';
export * from './ops/elementwise.ts';
export * from './ops/reduce.ts';
export * from './ops/layout.ts';
export * from './ops/matmul.ts';
export * from './ops/softmax.ts';
export { Optimizer, decayMatricesOnly } from './optim/optimizer.ts';
export { SGD, type SgdOptions } from './optim/sgd.ts';
export { Adam, AdamW, type AdamOptions } from './optim/adam.ts';
export { learningRate, type Schedule, type ScheduleOptions } from './optim/schedule.ts';
export { clipGradNorm } from './optim/clip.ts';
