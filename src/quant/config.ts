// The `quant` section of a training config: defaults filled in before validation (so config.json
// records every choice and `lowbit eval` rebuilds the same model), and problems named by field.
// "quant": "W4A4" is shorthand for { "policy": "W4A4" }.
import { ACTIVATION_METHODS, DEFAULT_QUANT, QUANT_FIELDS, settingProblem, WEIGHT_METHODS, type QuantConfig } from './policy.ts';

export type { QuantConfig };

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The config with its `quant` section (if any) completed with DEFAULT_QUANT. */
export function withQuantDefaults<T>(config: T): T {
  if (!isObject(config) || config.quant === undefined) return config;
  const q = typeof config.quant === 'string' ? { policy: config.quant } : config.quant;
  if (!isObject(q)) return config;
  return { ...config, quant: { ...DEFAULT_QUANT, ...q, layers: isObject(q.layers) ? { ...q.layers } : q.layers ?? {} } };
}

function oneOf(field: string, v: unknown, options: readonly string[]): string[] {
  return typeof v === 'string' && options.includes(v) ? [] : [`${field}: expected one of ${options.map((o) => `'${o}'`).join(', ')}, got ${JSON.stringify(v)}`];
}

/** Every problem of a `quant` section, each naming its field. */
export function quantProblems(q: unknown): string[] {
  if (!isObject(q)) return [`quant: expected an object or a policy such as "W4A4", got ${JSON.stringify(q)}`];
  const problems: string[] = [];
  for (const k of Object.keys(q)) if (!(QUANT_FIELDS as string[]).includes(k)) problems.push(`quant.${k}: unknown field (known: ${QUANT_FIELDS.join(', ')})`);
  const setting = (field: string, v: unknown, allowSame: boolean): void => {
    const p = settingProblem(field, v, allowSame);
    if (p) problems.push(p);
  };
  setting('quant.policy', q.policy, false);
  setting('quant.first', q.first, true);
  setting('quant.last', q.last, true);
  if (!isObject(q.layers)) problems.push(`quant.layers: expected an object of layer name -> setting, got ${JSON.stringify(q.layers)}`);
  else for (const [name, v] of Object.entries(q.layers)) setting(`quant.layers.${name}`, v, false);
  problems.push(...oneOf('quant.weight', q.weight, WEIGHT_METHODS));
  problems.push(...oneOf('quant.activation', q.activation, ACTIVATION_METHODS));
  problems.push(...oneOf('quant.weightGranularity', q.weightGranularity, ['channel', 'tensor']));
  problems.push(...oneOf('quant.rounding', q.rounding, ['half-even', 'half-away']));
  return problems;
}
