// Post-training quantization: copy (or share) the full-precision model, fold its batch norms, quantize
// weights per output channel from their min/max and activations with ranges calibrated on a few batches.
import type { Layer } from '../nn/layers.ts';
import type { Tensor } from '../tensor.ts';
import { calibrate, type CalibrationOptions } from './calibrate.ts';
import { cloneModule } from './clone.ts';
import { foldBatchNorm, type FoldRecord } from './fold.ts';
import { quantizeModel } from './model.ts';
import { quantConfig, type QuantConfig } from './policy.ts';

export interface PtqOptions {
  calibration?: CalibrationOptions;
  /** Fold each BN into its conv or linear first, as a deployed integer model does (default true). */
  foldBn?: boolean;
  /** Use the FP model's tensors instead of copies (default false). Folded layers are new tensors anyway;
   *  unfolded ones then change with the FP model. */
  shareWeights?: boolean;
  /** Activations on an unsigned grid with a zero point instead of a symmetric one (default false). */
  asymmetricActivations?: boolean;
}

const folds = new WeakMap<Layer, FoldRecord[]>();

/** The BN folds ptqQuantize made in `model` (empty when it folded none). */
export function foldRecords(model: Layer): FoldRecord[] {
  return folds.get(model) ?? [];
}

/**
 * Returns a quantized copy of `fp` (left unchanged) under `policy` ('W8A8', 'W4A4', or a config whose
 * bit widths, first/last and per-layer mix are used; PTQ always quantizes weights by per-channel min/max
 * and activations with calibrated static ranges). The result is in eval mode.
 */
export async function ptqQuantize(fp: Layer, policy: string | Partial<QuantConfig>, calibrationBatches: Iterable<Tensor>, opts: PtqOptions = {}): Promise<Layer> {
  const config = { ...quantConfig(policy), weight: 'minmax', activation: 'static' } as const;
  const model = cloneModule(fp, { shareTensors: opts.shareWeights ?? false }).eval();
  const folded = opts.foldBn === false ? [] : await foldBatchNorm(model, { keepReplaced: opts.shareWeights ?? false });
  quantizeModel(model, config, { asymmetricActivations: opts.asymmetricActivations });
  await calibrate(model, calibrationBatches, opts.calibration);
  folds.set(model, folded);
  return model;
}
