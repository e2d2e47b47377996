/**
 * A small graph builder on top of the ONNX protobuf subset: nodes by op name, constants,
 * typed inputs/outputs, subgraphs (for `Loop`), and `encode()` → ModelProto bytes.
 */
import { AttrType, DataType, onnxModelType } from './proto.js';

export type ElemType = 'float32' | 'float16' | 'int64' | 'bool';
const ELEM: Record<ElemType, number> = {
  float32: DataType.FLOAT,
  float16: DataType.FLOAT16,
  int64: DataType.INT64,
  bool: DataType.BOOL,
};

export type AttrValue = number | number[] | { float: number } | { graph: GraphBuilder };

interface ValueInfo {
  name: string;
  type: {
    tensor_type: { elem_type: number; shape?: { dim: ({ dim_value: number } | { dim_param: string })[] } };
  };
}

function valueInfo(name: string, elem: ElemType, shape?: readonly (number | string)[]): ValueInfo {
  return {
    name,
    type: {
      tensor_type: {
        elem_type: ELEM[elem],
        ...(shape
          ? {
              shape: { dim: shape.map((d) => (typeof d === 'number' ? { dim_value: d } : { dim_param: d })) },
            }
          : {}),
      },
    },
  };
}

export class GraphBuilder {
  private readonly nodes: object[] = [];
  private readonly inits: object[] = [];
  private readonly inputs: ValueInfo[] = [];
  private readonly outputs: ValueInfo[] = [];
  private counter = 0;
  /** operator-set domains other than the default one used by nodes (e.g. `com.microsoft`) */
  private readonly domains = new Set<string>();

  constructor(
    readonly name: string,
    private readonly prefix = '',
  ) {}

  private fresh(hint: string): string {
    return `${this.prefix}${hint}_${this.counter++}`;
  }

  input(name: string, elem: ElemType, shape?: readonly (number | string)[]): string {
    this.inputs.push(valueInfo(name, elem, shape));
    return name;
  }

  output(name: string, elem: ElemType, shape?: readonly (number | string)[]): void {
    this.outputs.push(valueInfo(name, elem, shape));
  }

  /** Adds a node; returns its output names (`nOut` fresh ones unless `outNames` are given). */
  op(
    opType: string,
    inputs: readonly string[],
    attrs: Record<string, AttrValue> = {},
    outNames?: string[],
    domain = '',
  ): string[] {
    const outs = outNames ?? [this.fresh(opType.toLowerCase())];
    const attribute = Object.entries(attrs).map(([name, v]) => {
      if (typeof v === 'number') return { name, type: AttrType.INT, i: v };
      if (Array.isArray(v)) return { name, type: AttrType.INTS, ints: v };
      if ('float' in v) return { name, type: AttrType.FLOAT, f: v.float };
      return { name, type: AttrType.GRAPH, g: v.graph.toProto() };
    });
    this.nodes.push({
      op_type: opType,
      input: [...inputs],
      output: outs,
      name: this.fresh(`n_${opType}`),
      attribute,
      ...(domain ? { domain } : {}),
    });
    if (domain) this.domains.add(domain);
    return outs;
  }

  /** Single-output node. */
  o(
    opType: string,
    inputs: readonly string[],
    attrs: Record<string, AttrValue> = {},
    outName?: string,
  ): string {
    return this.op(opType, inputs, attrs, outName ? [outName] : undefined)[0];
  }

  /** A float32 constant (initializer) of `shape` (scalar by default). */
  constF(values: number | readonly number[], shape: readonly number[] = []): string {
    const name = this.fresh('cf');
    const vals = typeof values === 'number' ? [values] : [...values];
    const raw = new Uint8Array(Float32Array.from(vals).buffer);
    this.inits.push({ name, dims: [...shape], data_type: DataType.FLOAT, raw_data: raw });
    return name;
  }

  /** An int64 constant (1-D unless `shape` says otherwise). */
  constI(values: number | readonly number[], shape?: readonly number[]): string {
    const name = this.fresh('ci');
    const vals = typeof values === 'number' ? [values] : [...values];
    const raw = new Uint8Array(BigInt64Array.from(vals.map((v) => BigInt(v))).buffer);
    this.inits.push({
      name,
      dims: shape ? [...shape] : typeof values === 'number' ? [] : [vals.length],
      data_type: DataType.INT64,
      raw_data: raw,
    });
    return name;
  }

  /** A bool constant of `shape` from 0/1 bytes. */
  constB(values: Uint8Array, shape: readonly number[]): string {
    const name = this.fresh('cb');
    this.inits.push({ name, dims: [...shape], data_type: DataType.BOOL, raw_data: values });
    return name;
  }

  /** The GraphProto object (for subgraph attributes). */
  toProto(): object {
    return {
      name: this.name,
      node: this.nodes,
      initializer: this.inits,
      input: this.inputs,
      output: this.outputs,
    };
  }

  /** The serialized ModelProto (IR version 8, default domain at `opset`, other domains used at 1). */
  encode(opset = 18, producer = '@mlstm/bench'): Uint8Array {
    const T = onnxModelType();
    const msg = T.fromObject({
      ir_version: 8,
      producer_name: producer,
      producer_version: '0.1.0',
      // contrib domains (com.microsoft) are imported at version 1
      opset_import: [
        { domain: '', version: opset },
        ...[...this.domains].map((domain) => ({ domain, version: 1 })),
      ],
      graph: this.toProto(),
    });
    return T.encode(msg).finish();
  }

  /** Number of nodes (for tests). */
  get nodeCount(): number {
    return this.nodes.length;
  }
}
