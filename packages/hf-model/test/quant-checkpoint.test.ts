/**
 * Quantised checkpoints: quantise → save → load gives the same packed weights bit for bit (and
 * the same GPU logits, bit for bit), the metadata record, the CLI, loading F16 / BF16 shards, and
 * the typed errors for a corrupted or truncated file, a group size that does not divide the row,
 * and an unknown format.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { f32ToF16Bits as f16, type GpuContext, getGpuContext, packF16 } from '@mlstm/kernels-webgpu';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { main } from '../src/cli/quantize.js';
import {
  CheckpointFormatError,
  memorySink,
  parseSafetensorsFile,
  parseXlstmConfig,
  QUANT_METADATA_KEY,
  QuantFormatError,
  quantizeCheckpoint,
  resolveFormats,
  SafetensorsStreamWriter,
  WeightLoader,
  type WeightFormat,
  XlstmForCausalLM,
} from '../src/index.js';
import type { FilledMatrix, PackedMatrix, PackedPieces } from '../src/quant/pieces.js';
import { checkpointTensors, configJson, idsOf, loadFixture, maxAbsDiff, modelDir } from './helpers.js';

let dir: string;
let ctx: GpuContext;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'mlstm-quant-'));
  ctx = await getGpuContext();
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
  ctx?.destroy();
});

const fx = loadFixture('single');

/**
 * The bits a packed matrix uploads, as plain numbers: the words and scales of a quantised one, the
 * f32 bits of an f32 one, the f16 bits of an f16 one (the upload rounds the values).
 */
const bitsOf = (p: PackedMatrix) => {
  const m = p as Exclude<PackedMatrix, FilledMatrix>;
  return 'scales' in m
    ? { format: m.format, rows: m.rows, cols: m.cols, data: [...m.data], scales: [...m.scales] }
    : {
        format: m.format,
        rows: m.rows,
        cols: m.cols,
        data:
          m.format === 'f16'
            ? [...packF16(m.data)]
            : [...new Uint32Array(m.data.buffer, m.data.byteOffset, m.data.length)],
      };
};

function samePieces(a: PackedPieces, b: PackedPieces, blocks: number) {
  expect(b.formats).toEqual(a.formats);
  expect(bitsOf(b.embedding())).toEqual(bitsOf(a.embedding()));
  for (let i = 0; i < blocks; i++) {
    const [x, y] = [a.block(i), b.block(i)];
    for (const k of ['qkvo', 'ifGate', 'outProj', 'upGateZ', 'down'] as const) {
      expect(bitsOf(y[k].w), `block ${i} ${k}`).toEqual(bitsOf(x[k].w));
      expect(y[k].b).toEqual(x[k].b);
    }
    expect(y.multiheadNorm).toEqual(x.multiheadNorm);
  }
  const [ha, hb] = [a.head(), b.head()];
  expect(hb.outNorm).toEqual(ha.outNorm);
  expect(hb.lmHead && bitsOf(hb.lmHead)).toEqual(ha.lmHead && bitsOf(ha.lmHead));
}

const storeOf = (folder: string) => parseSafetensorsFile(readFileSync(join(folder, 'model.safetensors')));
const cfgOf = (folder: string) => parseXlstmConfig(readFileSync(join(folder, 'config.json'), 'utf8'));

describe('quantise → save → load', () => {
  const cases: [WeightFormat, WeightFormat | undefined][] = [
    ['q4', undefined],
    ['q8', 'q4'],
    ['f16', undefined],
  ];
  test.each(cases)(
    'dtype %s, embedding %s: the same packed weights bit for bit, the same GPU logits',
    async (dtype, embeddingDtype) => {
      const out = join(dir, `rt-${dtype}-${embeddingDtype}`);
      const record = await quantizeCheckpoint(modelDir('single'), out, { dtype, embeddingDtype });
      const formats = resolveFormats(dtype, { embeddingDtype });
      expect(record.formats).toEqual(formats);
      expect(record.groupSize).toBe(32);
      expect(record.source).toBe(modelDir('single'));
      // the metadata block of the file
      const store = storeOf(out);
      const meta = JSON.parse(store.metadata[QUANT_METADATA_KEY]);
      expect(meta.group_size).toBe(32);
      expect(meta.formats).toEqual(formats);
      const quantised = Object.keys(meta.tensors);
      expect(quantised.length).toBe(
        (formats.linear.startsWith('q') ? 2 * 5 : 0) +
          (formats.embedding.startsWith('q') ? 1 : 0) +
          (formats.lmHead.startsWith('q') ? 1 : 0),
      );
      expect(JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')).weight_mode).toBe('fused');
      expect(readFileSync(join(out, 'tokenizer.json'), 'utf8')).toBe(
        readFileSync(join(modelDir('single'), 'tokenizer.json'), 'utf8'),
      );
      // the loaded pieces equal the pieces quantised on load from the source
      const src = new WeightLoader(cfgOf(modelDir('single')), storeOf(modelDir('single')));
      const back = new WeightLoader(cfgOf(out), store);
      back.validate();
      expect(back.storedFormats()).toEqual(formats);
      samePieces(src.packed(formats), back.packed(formats), 2);
      // on the GPU: the saved folder loads in its formats by default, with identical logits
      const a = await XlstmForCausalLM.fromPretrained(modelDir('single'), {
        device: 'webgpu',
        gpu: ctx,
        dtype,
        embeddingDtype,
      });
      const b = await XlstmForCausalLM.fromPretrained(out, { device: 'webgpu', gpu: ctx });
      expect(b.formats).toEqual(a.formats);
      const ids = idsOf(fx.tensors['input_ids.len37']);
      const [ra, rb] = [await a.forward(ids), await b.forward(ids)];
      expect(maxAbsDiff(rb.logits, ra.logits)).toBe(0);
      ra.cache.release();
      rb.cache.release();
      a.dispose();
      b.dispose();
    },
  );

  test('a quantised checkpoint loaded as f32 (CPU) computes with its dequantised weights', async () => {
    const out = join(dir, 'rt-q8-cpu');
    await quantizeCheckpoint(modelDir('fused'), out, { dtype: 'q8' });
    const stored = await XlstmForCausalLM.fromPretrained(out, { device: 'cpu' });
    const direct = await XlstmForCausalLM.fromPretrained(modelDir('fused'), { device: 'cpu', dtype: 'q8' });
    expect(stored.formats).toEqual(direct.formats);
    const ids = idsOf(fx.tensors['input_ids.len16']);
    expect(maxAbsDiff((await stored.forward(ids)).logits, (await direct.forward(ids)).logits)).toBe(0);
  });
});

describe('quantise on load from F16 / BF16 shards', () => {
  test.each(['F16', 'BF16'] as const)(
    '%s in two shards, q8 on load: progress to the total, logits near f32',
    async (dt) => {
      const t = await checkpointTensors('single');
      const names = Object.keys(t);
      const shards: Record<string, Uint8Array> = {};
      const weightMap: Record<string, string> = {};
      for (const [s, part] of [names.slice(0, 10), names.slice(10)].entries()) {
        const sink = memorySink();
        const w = new SafetensorsStreamWriter(sink, 8192);
        for (const n of part) {
          const v = t[n].data;
          const bits = new Uint16Array(v.length);
          const f = new Float32Array(1);
          const u = new Uint32Array(f.buffer);
          for (let x = 0; x < v.length; x++) {
            f[0] = v[x];
            // BF16: the top 16 bits, rounded to nearest even; F16 through the kernels' converter
            bits[x] = dt === 'BF16' ? (u[0] + 0x7fff + ((u[0] >>> 16) & 1)) >>> 16 : f16(v[x]);
          }
          w.add(n, dt, t[n].shape, bits);
          weightMap[n] = `model-0000${s + 1}-of-00002.safetensors`;
        }
        w.finish({ format: 'pt' });
        shards[`model-0000${s + 1}-of-00002.safetensors`] = sink.bytes();
      }
      const files = {
        'config.json': JSON.stringify(configJson('single')),
        'model.safetensors.index.json': JSON.stringify({ weight_map: weightMap }),
        ...shards,
      };
      const progress: number[] = [];
      let total = 0;
      const m = await XlstmForCausalLM.fromPretrained(
        { files },
        {
          device: 'webgpu',
          gpu: ctx,
          dtype: 'q8',
          onProgress: (p) => {
            progress.push(p.loaded);
            total = p.total ?? 0;
          },
        },
      );
      expect(progress.at(-1)).toBe(total);
      expect(m.formats.linear).toBe('q8');
      const r = await m.forward(idsOf(fx.tensors['input_ids.len16']));
      // 16-bit source weights then q8: within the q8 quality bound of quant-model.test.ts
      expect(maxAbsDiff(r.logits, fx.tensors['logits.len16'].data)).toBeLessThan(0.12 * 4.75);
      r.cache.release();
      m.dispose();
    },
  );
});

/** The file with its header JSON rewritten by `edit` (data unchanged). */
function editHeader(
  bytes: Uint8Array,
  edit: (h: { __metadata__: Record<string, string> }) => void,
): Uint8Array {
  const len = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  const h = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + len)));
  edit(h);
  let json = JSON.stringify(h);
  while (json.length % 8) json += ' ';
  const enc = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + enc.length + bytes.length - 8 - len);
  new DataView(out.buffer).setBigUint64(0, BigInt(enc.length), true);
  out.set(enc, 8);
  out.set(bytes.subarray(8 + len), 8 + enc.length);
  return out;
}

describe('bad quantised files: typed errors naming the tensor and the problem', () => {
  let good: Uint8Array;
  let cfg: string;
  const qkv = 'backbone.blocks.0.mlstm_layer.qkv_opreact.weight';
  beforeAll(async () => {
    const out = join(dir, 'bad');
    await quantizeCheckpoint(modelDir('single'), out, { dtype: 'q4' });
    good = readFileSync(join(out, 'model.safetensors'));
    cfg = readFileSync(join(out, 'config.json'), 'utf8');
  });
  const load = (bytes: Uint8Array) =>
    XlstmForCausalLM.fromPretrained(
      { files: { 'config.json': cfg, 'model.safetensors': bytes } },
      { device: 'cpu' },
    ).catch((e) => e);

  test('corrupted data: a checksum mismatch names the tensor', async () => {
    const store = parseSafetensorsFile(good);
    const e0 = store.tensors.get(`${qkv}.qweight`)!;
    const bytes = good.slice();
    const len = Number(new DataView(good.buffer, good.byteOffset).getBigUint64(0, true));
    const start = JSON.parse(new TextDecoder().decode(good.subarray(8, 8 + len)))[`${qkv}.qweight`]
      .data_offsets[0];
    bytes[8 + len + start + 100] ^= 0x10;
    expect(e0.byteLength).toBeGreaterThan(100);
    const e = await load(bytes);
    expect(e).toBeInstanceOf(QuantFormatError);
    expect(e.tensor).toBe(qkv);
    expect(e.message).toMatch(/checksum .* corrupted/);
  });

  test('truncated file: the tensor past the end', async () => {
    const e = await load(good.subarray(0, good.length - 10));
    expect(e).toBeInstanceOf(CheckpointFormatError);
    expect(e.tensor).toMatch(/^lm_head\.weight\.(qweight|scales)$/);
    expect(e.message).toMatch(/truncated/);
  });

  test('a group size that does not divide the row', async () => {
    const bytes = editHeader(good, (h) => {
      const m = JSON.parse(h.__metadata__[QUANT_METADATA_KEY]);
      m.group_size = 48;
      h.__metadata__[QUANT_METADATA_KEY] = JSON.stringify(m);
    });
    const e = await load(bytes);
    expect(e).toBeInstanceOf(QuantFormatError);
    expect(e.message).toMatch(/group size 48 does not divide the row of 128 values/);
  });

  test('an unknown format, and stored words that are not whole groups', async () => {
    const unknown = editHeader(good, (h) => {
      const m = JSON.parse(h.__metadata__[QUANT_METADATA_KEY]);
      m.tensors[qkv].format = 'q3';
      h.__metadata__[QUANT_METADATA_KEY] = JSON.stringify(m);
    });
    const e = await load(unknown);
    expect(e).toBeInstanceOf(QuantFormatError);
    expect(e.tensor).toBe(qkv);
    expect(e.message).toMatch(/unknown format "q3"/);
    // q4 rows of 16 words hold 4 groups; read as q8 (8 words a group) they are 2 groups: too few
    const wrong = editHeader(good, (h) => {
      const m = JSON.parse(h.__metadata__[QUANT_METADATA_KEY]);
      m.tensors[qkv].format = 'q8';
      h.__metadata__[QUANT_METADATA_KEY] = JSON.stringify(m);
    });
    const e2 = await load(wrong);
    expect(e2).toBeInstanceOf(QuantFormatError);
    expect(e2.message).toMatch(/2 groups of 32 per row do not hold a row of 128 values/);
  });
});

describe('mlstm-quantize', () => {
  test('quantises a folder; bad arguments exit 2 with the usage', async () => {
    const lines: string[] = [];
    const out = join(dir, 'cli');
    expect(
      await main([modelDir('fused'), out, '--dtype', 'q4', '--lm-head-dtype', 'f16'], (s) => lines.push(s)),
    ).toBe(0);
    expect(lines.at(-1)).toMatch(/blocks q4, embedding q8, lm_head f16/);
    expect(new WeightLoader(cfgOf(out), storeOf(out)).storedFormats()).toEqual({
      linear: 'q4',
      embedding: 'q8',
      lmHead: 'f16',
    });
    const err: string[] = [];
    expect(await main([modelDir('fused'), out, '--dtype', 'q3'], (s) => err.push(s))).toBe(2);
    expect(err[0]).toMatch(/--dtype: expected one of f32, f16, q8, q4, got 'q3'/);
    expect(await main([modelDir('fused')], (s) => err.push(s))).toBe(2);
    expect(await main([join(dir, 'nope'), out, '--dtype', 'q8'], (s) => err.push(s))).toBe(1);
  });
});
