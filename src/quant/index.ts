// lowbit quantization: fake-quant ops, quantizers, quantized layers, policies, PTQ, QAT init, export.
export { fakeQuantize, fakeQuantizeMinMax, quantRange, type FakeQuantParams, type Rounding, type Ste } from './fake-quant.ts';
export { Quantizer, LsqQuantizer, PactQuantizer, DorefaQuantizer, MinMaxQuantizer, StaticQuantizer, makeQuantizer, type Quantized } from './quantizers.ts';
export { QConv2d, QLinear, QuantizedLayer } from './layers.ts';
export { DEFAULT_QUANT, quantConfig, parseSetting, layerSetting, type QuantConfig, type QuantizerSpec, type LayerQuantSpec } from './policy.ts';
export { quantizeModel, quantizedLayers, quantizers, isQuantized, describeQuantization, replaceModule, moduleAt, type QuantizeOptions } from './model.ts';
export { calibrate, RangeObserver, quantizationMse, type CalibrationMethod, type CalibrationOptions, type CalibratedRange } from './calibrate.ts';
export { foldBatchNorm, foldPlan, type FoldRecord } from './fold.ts';
export { cloneModule } from './clone.ts';
export { ptqQuantize, foldRecords, type PtqOptions } from './ptq.ts';
export { quantizationReport, formatReport, type QuantReport, type LayerError, type EmbeddingError } from './report.ts';
export { exportQuantized, loadQuantizedExport, dequantize } from './export.ts';
export { loadInitCheckpoint, quantizerPlaceholders } from './init.ts';
