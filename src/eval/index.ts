// Evaluation on CPU arrays of embeddings: verification (LFW protocol), ROC, identification, angle
// analysis, and PNG charts. No GPU code: the model's embeddings are read back first.
export * from './embeddings.ts';
export * from './kfold.ts';
export * from './roc.ts';
export * from './verification.ts';
export * from './identification.ts';
export * from './angles.ts';
export * from './plot.ts';
