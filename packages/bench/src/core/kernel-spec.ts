/**
 * `KernelSpec` (upstream `param_handling.KernelSpec`): which kernel, in which dtype, forward or
 * forward+backward, with which extra parameters. `toString()` gives the upstream column name
 * `<kernel>__<dtype>__<fw|fwbw>[__<k>-<v>_...]` with short parameter names
 * (`chunk_size → cs`, `normalize → n`).
 */
/** `bfloat16` only for reference numbers measured elsewhere (WebGPU has no bf16). */
export type Dtype = 'float32' | 'float16' | 'bfloat16';
export type AdditionalParams = Record<string, string | number | boolean>;

export interface KernelSpecInit {
  kernelName: string;
  dtype?: Dtype;
  fwbw?: boolean;
  additionalParams?: AdditionalParams;
  /** a display name for plots (default: the spec string) */
  label?: string;
}

/** `chunk_size → cs`, `numHeads → nh`, `head_dim_v → hdv`: first letters of each word. */
export function shortParamName(name: string): string {
  const words = name
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toLowerCase()
    .split(/[_\s-]+/)
    .filter(Boolean);
  return words.map((w) => w[0]).join('');
}

export class KernelSpec {
  readonly kernelName: string;
  readonly dtype: Dtype;
  readonly fwbw: boolean;
  readonly additionalParams: AdditionalParams;
  readonly label?: string;

  constructor(init: KernelSpecInit) {
    this.kernelName = init.kernelName;
    this.dtype = init.dtype ?? 'float32';
    this.fwbw = init.fwbw ?? false;
    this.additionalParams = { ...(init.additionalParams ?? {}) };
    this.label = init.label;
  }

  toString(shortParamNames = true): string {
    let s = `${this.kernelName}__${this.dtype}__${this.fwbw ? 'fwbw' : 'fw'}`;
    const entries = Object.entries(this.additionalParams);
    if (entries.length) {
      s += `__${entries.map(([k, v]) => `${shortParamNames ? shortParamName(k) : k}-${v}`).join('_')}`;
    }
    return s;
  }

  /** The label of this spec in plots. */
  get displayName(): string {
    return this.label ?? this.toString();
  }

  toJSON(): KernelSpecInit {
    return {
      kernelName: this.kernelName,
      dtype: this.dtype,
      fwbw: this.fwbw,
      additionalParams: this.additionalParams,
      ...(this.label ? { label: this.label } : {}),
    };
  }
}
