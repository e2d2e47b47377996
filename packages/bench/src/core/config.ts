/**
 * `BenchmarkConfig` (upstream `param_handling.BenchmarkConfig`): fixed parameters, parameters to
 * vary (`grid`: Cartesian product; `sequence`: equal-length lists zipped), kernel specs, a name
 * and the x-axis parameter. Loaded from YAML or JSON and validated with zod.
 */
import { MlstmError } from '@mlstm/core-reference';
import { readFileSync } from 'node:fs';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { z } from 'zod';
import { KernelSpec, type KernelSpecInit } from './kernel-spec.js';

const scalar = z.union([z.string(), z.number(), z.boolean()]);

export const kernelSpecSchema = z
  .object({
    kernelName: z.string().min(1),
    dtype: z.enum(['float32', 'float16', 'bfloat16']).default('float32'),
    fwbw: z.boolean().default(false),
    additionalParams: z.record(z.string(), scalar).default({}),
    label: z.string().optional(),
  })
  .strict();

export const benchmarkConfigSchema = z
  .object({
    benchmarkName: z.string().regex(/^[A-Za-z0-9_.-]+$/, 'letters, digits, _ . - only (it names a folder)'),
    varyType: z.enum(['sequence', 'grid']),
    varyParams: z.record(z.string(), z.array(scalar).min(1)).default({}),
    fixedParams: z.record(z.string(), scalar).default({}),
    kernelSpecs: z.array(kernelSpecSchema).min(1),
    xAxisParam: z.string().optional(),
    /** upstream's `warmup` / `rep` (iterations) */
    warmup: z.number().int().min(0).optional(),
    rep: z.number().int().min(1).optional(),
    aggregation: z.enum(['median', 'mean']).optional(),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.varyType === 'sequence') {
      const lens = Object.values(c.varyParams).map((v) => v.length);
      if (new Set(lens).size > 1) {
        ctx.addIssue({
          code: 'custom',
          path: ['varyParams'],
          message: `varyType 'sequence' needs lists of equal length, got ${lens.join(', ')}`,
        });
      }
    }
    if (c.xAxisParam && !(c.xAxisParam in c.varyParams) && !(c.xAxisParam in c.fixedParams)) {
      ctx.addIssue({ code: 'custom', path: ['xAxisParam'], message: `'${c.xAxisParam}' is not a parameter` });
    }
    for (const k of Object.keys(c.varyParams)) {
      if (k in c.fixedParams) {
        ctx.addIssue({
          code: 'custom',
          path: ['fixedParams', k],
          message: `'${k}' is both fixed and varied`,
        });
      }
    }
  });

export type BenchmarkConfigInput = z.input<typeof benchmarkConfigSchema>;
export type ParamValue = string | number | boolean;
export type ParamDict = Record<string, ParamValue>;

/** A benchmark config (YAML / JSON) is invalid; part of the `MlstmError` hierarchy of every @mlstm package. */
export class BenchmarkConfigError extends MlstmError {
  override name = 'BenchmarkConfigError';
}

export class BenchmarkConfig {
  readonly benchmarkName: string;
  readonly varyType: 'sequence' | 'grid';
  readonly varyParams: Record<string, ParamValue[]>;
  readonly fixedParams: ParamDict;
  readonly kernelSpecs: KernelSpec[];
  readonly xAxisParam?: string;
  readonly warmup?: number;
  readonly rep?: number;
  readonly aggregation?: 'median' | 'mean';

  constructor(
    input:
      | BenchmarkConfigInput
      | (Omit<BenchmarkConfigInput, 'kernelSpecs'> & { kernelSpecs: (KernelSpec | KernelSpecInit)[] }),
  ) {
    const plain = {
      ...input,
      kernelSpecs: input.kernelSpecs.map((k) => (k instanceof KernelSpec ? k.toJSON() : k)),
    };
    const r = benchmarkConfigSchema.safeParse(plain);
    if (!r.success) {
      const msg = r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
      throw new BenchmarkConfigError(`invalid benchmark config: ${msg}`);
    }
    const c = r.data;
    this.benchmarkName = c.benchmarkName;
    this.varyType = c.varyType;
    this.varyParams = c.varyParams;
    this.fixedParams = c.fixedParams;
    this.kernelSpecs = c.kernelSpecs.map((k) => new KernelSpec(k));
    this.xAxisParam = c.xAxisParam;
    this.warmup = c.warmup;
    this.rep = c.rep;
    this.aggregation = c.aggregation;
  }

  /** The same config with other kernel specs (e.g. only the series that need no GPU). */
  withKernelSpecs(specs: readonly KernelSpec[]): BenchmarkConfig {
    return new BenchmarkConfig({ ...this.toJSON(), kernelSpecs: [...specs] });
  }

  /** Fixed parameters overlaid with each combination of the varied ones. */
  getParamDicts(): ParamDict[] {
    const keys = Object.keys(this.varyParams);
    if (keys.length === 0) return [{ ...this.fixedParams }];
    if (this.varyType === 'sequence') {
      const n = this.varyParams[keys[0]].length;
      return Array.from({ length: n }, (_, x) => {
        const d: ParamDict = { ...this.fixedParams };
        for (const k of keys) d[k] = this.varyParams[k][x];
        return d;
      });
    }
    let out: ParamDict[] = [{ ...this.fixedParams }];
    for (const k of keys) out = out.flatMap((d) => this.varyParams[k].map((v) => ({ ...d, [k]: v })));
    return out;
  }

  getPlotTitle(): string {
    const fixed = Object.entries(this.fixedParams)
      .map(([k, v]) => `${k}=${v}`)
      .join(', ');
    return fixed ? `${this.benchmarkName} (${fixed})` : this.benchmarkName;
  }

  toJSON(): BenchmarkConfigInput {
    return {
      benchmarkName: this.benchmarkName,
      varyType: this.varyType,
      varyParams: this.varyParams,
      fixedParams: this.fixedParams,
      kernelSpecs: this.kernelSpecs.map((k) => k.toJSON()),
      ...(this.xAxisParam ? { xAxisParam: this.xAxisParam } : {}),
      ...(this.warmup !== undefined ? { warmup: this.warmup } : {}),
      ...(this.rep !== undefined ? { rep: this.rep } : {}),
      ...(this.aggregation ? { aggregation: this.aggregation } : {}),
    };
  }

  toYaml(): string {
    return stringifyYaml(this.toJSON());
  }

  /** Parses YAML (a superset of JSON). Upstream snake_case keys are accepted too. */
  static parse(text: string): BenchmarkConfig {
    let raw: unknown;
    try {
      raw = parseYaml(text);
    } catch (e) {
      throw new BenchmarkConfigError(`benchmark config is not valid YAML/JSON: ${(e as Error).message}`);
    }
    return new BenchmarkConfig(camelize(raw) as BenchmarkConfigInput);
  }

  static fromFile(path: string): BenchmarkConfig {
    return BenchmarkConfig.parse(readFileSync(path, 'utf8'));
  }
}

const SNAKE_KEYS: Record<string, string> = {
  vary_type: 'varyType',
  vary_params: 'varyParams',
  fixed_params: 'fixedParams',
  kernel_specs: 'kernelSpecs',
  benchmark_name: 'benchmarkName',
  x_axis_param: 'xAxisParam',
  kernel_name: 'kernelName',
  additional_params: 'additionalParams',
};

/** Renames upstream's snake_case structural keys (parameter names are left alone). */
function camelize(x: unknown, depth = 0): unknown {
  if (Array.isArray(x)) return x.map((e) => camelize(e, depth + 1));
  if (x && typeof x === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(x)) {
      const key = SNAKE_KEYS[k] ?? k;
      const isParamMap = key === 'varyParams' || key === 'fixedParams' || key === 'additionalParams';
      out[key] = isParamMap ? v : camelize(v, depth + 1);
    }
    return out;
  }
  return x;
}
