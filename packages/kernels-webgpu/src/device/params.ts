/**
 * Uniform parameter blocks defined once: the same definition generates the WGSL struct and
 * packs the values, so the two can never disagree.
 */
export type ParamType = 'u32' | 'i32' | 'f32';

export interface ParamBlock<K extends string> {
  /** WGSL `struct <name> { ... }` declaration */
  wgsl(name?: string): string;
  /** packs values in declaration order (16-byte padded, as uniform buffers need) */
  pack(values: Record<K, number>): ArrayBuffer;
  readonly fields: readonly K[];
}

export function defineParams<K extends string>(spec: Record<K, ParamType>): ParamBlock<K> {
  const fields = Object.keys(spec) as K[];
  const bytes = Math.max(16, Math.ceil((fields.length * 4) / 16) * 16);
  return {
    fields,
    wgsl(name = 'Params') {
      return `struct ${name} {\n${fields.map((f) => `  ${f}: ${spec[f]},`).join('\n')}\n}`;
    },
    pack(values) {
      const buf = new ArrayBuffer(bytes);
      const dv = new DataView(buf);
      fields.forEach((f, x) => {
        const v = values[f];
        if (typeof v !== 'number' || Number.isNaN(v)) throw new TypeError(`params: ${f} is ${v}`);
        if (spec[f] === 'f32') dv.setFloat32(4 * x, v, true);
        else if (spec[f] === 'u32') dv.setUint32(4 * x, v >>> 0, true);
        else dv.setInt32(4 * x, v | 0, true);
      });
      return buf;
    },
  };
}
