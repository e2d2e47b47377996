import { describe, expect, it } from 'vitest';
import {
  BenchmarkConfig,
  BenchmarkConfigError,
  consttokenConfigs,
  KernelSpec,
  plotLabel,
  shortLabel,
  shortParamName,
} from '../src/index.js';

const yamlText = `
benchmark_name: consttoken_fw
vary_type: sequence
vary_params:
  sequence_length: [512, 1024, 2048]
  batch_size: [4, 2, 1]
fixed_params:
  num_heads: 16
  head_dim_qk: 128
kernel_specs:
  - kernel_name: chunkwise--webgpu_xl_chunk
    dtype: float16
    fwbw: true
    additional_params: { chunk_size: 128 }
x_axis_param: sequence_length
`;

describe('KernelSpec', () => {
  it('f32 runs also benchmark xl_chunk computed in f16, labelled f32→f16', () => {
    const [fw] = consttokenConfigs({
      preset: 'tiny',
      modes: ['fw'],
      dtypes: ['float32', 'float16'],
      peers: [],
    });
    const labels = fw.kernelSpecs.map(shortLabel);
    expect(labels).toContain('xl f32→f16 cs128');
    expect(labels.filter((l) => l.includes('→'))).toHaveLength(1);
    const spec = fw.kernelSpecs.find((k) => shortLabel(k) === 'xl f32→f16 cs128')!;
    expect(spec.additionalParams).toEqual({ chunk_size: 128, compute_dtype: 'float16' });
    expect(plotLabel(spec)).toBe('WebGPU xl_chunk f32→f16 cs128');
  });

  it('formats like upstream', () => {
    const s = new KernelSpec({
      kernelName: 'chunkwise--webgpu_xl_chunk',
      dtype: 'float16',
      fwbw: true,
      additionalParams: { chunk_size: 128, num_heads: 16, head_dim_v: 256, head_dim_qk: 128 },
    });
    expect(s.toString()).toBe('chunkwise--webgpu_xl_chunk__float16__fwbw__cs-128_nh-16_hdv-256_hdq-128');
    expect(s.toString(false)).toContain('chunk_size-128');
    expect(new KernelSpec({ kernelName: 'k' }).toString()).toBe('k__float32__fw');
    expect(shortParamName('normalize')).toBe('n');
    expect(shortParamName('headDimV')).toBe('hdv');
  });
});

describe('BenchmarkConfig', () => {
  it('parses upstream-style YAML (snake_case) and zips sequence params', () => {
    const c = BenchmarkConfig.parse(yamlText);
    expect(c.benchmarkName).toBe('consttoken_fw');
    expect(c.kernelSpecs[0].toString()).toBe('chunkwise--webgpu_xl_chunk__float16__fwbw__cs-128');
    expect(c.getParamDicts()).toEqual([
      { num_heads: 16, head_dim_qk: 128, sequence_length: 512, batch_size: 4 },
      { num_heads: 16, head_dim_qk: 128, sequence_length: 1024, batch_size: 2 },
      { num_heads: 16, head_dim_qk: 128, sequence_length: 2048, batch_size: 1 },
    ]);
    expect(c.getPlotTitle()).toBe('consttoken_fw (num_heads=16, head_dim_qk=128)');
  });

  it('parses JSON (camelCase) and builds a grid', () => {
    const c = BenchmarkConfig.parse(
      JSON.stringify({
        benchmarkName: 'g',
        varyType: 'grid',
        varyParams: { a: [1, 2], b: ['x', 'y', 'z'] },
        kernelSpecs: [{ kernelName: 'k' }],
      }),
    );
    const d = c.getParamDicts();
    expect(d).toHaveLength(6);
    expect(d[0]).toEqual({ a: 1, b: 'x' });
    expect(d[5]).toEqual({ a: 2, b: 'z' });
  });

  it('round-trips through YAML', () => {
    const c = BenchmarkConfig.parse(yamlText);
    const again = BenchmarkConfig.parse(c.toYaml());
    expect(again.toJSON()).toEqual(c.toJSON());
  });

  it.each([
    ['unequal sequence lists', { varyParams: { a: [1, 2], b: [1] } }, /equal length/],
    ['no kernel specs', { kernelSpecs: [] }, /kernelSpecs/],
    ['unknown x axis', { xAxisParam: 'nope' }, /xAxisParam/],
    ['fixed and varied', { fixedParams: { a: 3 } }, /both fixed and varied/],
    ['bad vary type', { varyType: 'zip' }, /varyType/],
    ['unknown key', { extra: 1 }, /extra|Unrecognized/i],
    ['bad dtype', { kernelSpecs: [{ kernelName: 'k', dtype: 'int8' }] }, /dtype/],
    ['folder-unsafe name', { benchmarkName: 'a/b' }, /benchmarkName/],
  ])('rejects %s', (_name, patch, msg) => {
    const base = {
      benchmarkName: 'x',
      varyType: 'sequence',
      varyParams: { a: [1, 2], b: [3, 4] },
      kernelSpecs: [{ kernelName: 'k' }],
    };
    expect(() => new BenchmarkConfig({ ...base, ...patch } as never)).toThrow(BenchmarkConfigError);
    expect(() => new BenchmarkConfig({ ...base, ...patch } as never)).toThrow(msg);
  });

  it('reports YAML syntax errors as config errors', () => {
    expect(() => BenchmarkConfig.parse('a: [1, 2')).toThrow(BenchmarkConfigError);
  });
});
