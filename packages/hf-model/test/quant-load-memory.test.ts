/**
 * Peak CPU memory of quantise-on-load: a checkpoint of the xLSTM-7B shape at half its width (H 2048
 * instead of 4096, V 50 304, 8 heads, FFN 2.667·H) with 2 blocks, random BF16 values written to
 * disk (0.6 GB), loaded as q4 (tables q8) one tensor at a time into an upload that keeps nothing
 * on the CPU. The bound for the full 7B shape is 2 GB above the upload; what the loader
 * holds grows at most linearly with H here (the packed lm_head, V·H; matrices are decoded and
 * quantised in slices of 4 Mi values), so at half the width the bound is 1 GB. Half width keeps
 * the test near 15 s on the 2 shared cores of CI. Measured: 0.24 GB.
 */
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, test } from 'vitest';
import {
  fileSource,
  parseSafetensorsFile,
  parseXlstmConfig,
  resolveFormats,
  WeightLoader,
} from '../src/index.js';
import { isQuantFormat, type QuantMatrix } from '../src/quant/formats.js';
import type { PackedMatrix } from '../src/quant/pieces.js';

const CONFIG = {
  hidden_size: 2048,
  num_heads: 8,
  num_blocks: 2,
  num_hidden_layers: 2,
  vocab_size: 50304,
  weight_mode: 'fused',
};

let dir = '';
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Writes a BF16 safetensors file of `tensors` with values from a repeating random pattern, in 16 MB writes. */
function writeRandomBf16(path: string, tensors: [string, number[]][]) {
  const header: Record<string, unknown> = {};
  let off = 0;
  for (const [name, shape] of tensors) {
    const bytes = 2 * shape.reduce((a, b) => a * b, 1);
    header[name] = { dtype: 'BF16', shape, data_offsets: [off, off + bytes] };
    off += bytes;
  }
  let json = JSON.stringify(header);
  while (json.length % 8) json += ' ';
  const enc = new TextEncoder().encode(json);
  const fd = openSync(path, 'w');
  const len = new Uint8Array(8);
  new DataView(len.buffer).setBigUint64(0, BigInt(enc.length), true);
  writeSync(fd, len);
  writeSync(fd, enc);
  const CHUNK = 8 << 20; // values
  const chunk = new Uint16Array(CHUNK);
  let seed = 5;
  const f = new Float32Array(1);
  const u = new Uint32Array(f.buffer);
  for (let x = 0; x < 65536; x++) {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    f[0] = (seed / 2 ** 31 - 0.5) * 0.04;
    chunk[x] = u[0] >>> 16;
  }
  for (let x = 65536; x < CHUNK; x *= 2) chunk.copyWithin(x, 0, Math.min(x, CHUNK - x));
  const bytes = new Uint8Array(chunk.buffer);
  for (let left = off; left > 0; ) {
    const n = Math.min(left, bytes.byteLength - ((left / 2) % 7) * 2); // shift the pattern between writes
    writeSync(fd, bytes, 0, n);
    left -= n;
  }
  closeSync(fd);
}

const matBytes = (m: PackedMatrix) =>
  isQuantFormat(m.format)
    ? (m as QuantMatrix).data.byteLength + (m as QuantMatrix).scales.byteLength
    : m.rows * m.cols * 4;

test('7B-shaped at half width, 2 blocks, BF16 on disk → q4: peak memory above the upload < 1 GB', async () => {
  const cfg = parseXlstmConfig(CONFIG);
  const { H, NH, Dqk, Dv, F, V } = cfg.dims;
  const tensors: [string, number[]][] = [['backbone.embeddings.weight', [V, H]]];
  for (let i = 0; i < 2; i++) {
    const p = `backbone.blocks.${i}.`;
    tensors.push(
      [`${p}norm_mlstm.weight`, [H]],
      [`${p}mlstm_layer.qkv_opreact.weight`, [2 * Dqk + 2 * Dv, H]],
      [`${p}mlstm_layer.ifgate_preact.weight`, [2 * NH, H]],
      [`${p}mlstm_layer.ifgate_preact.bias`, [2 * NH]],
      [`${p}mlstm_layer.multihead_norm.weight`, [Dv]],
      [`${p}mlstm_layer.out_proj.weight`, [H, Dv]],
      [`${p}norm_ffn.weight`, [H]],
      [`${p}ffn.proj_up_gate_z.weight`, [2 * F, H]],
      [`${p}ffn.proj_down.weight`, [H, F]],
    );
  }
  tensors.push(['backbone.out_norm.weight', [H]], ['lm_head.weight', [V, H]]);
  dir = mkdtempSync(join(tmpdir(), 'mlstm-mem-'));
  const file = join(dir, 'model.safetensors');
  let t0 = performance.now();
  writeRandomBf16(file, tensors);
  const tWrite = performance.now() - t0;

  global.gc?.();
  const base = process.memoryUsage().rss;
  let peak = base;
  let uploaded = 0;
  const sample = () => {
    peak = Math.max(peak, process.memoryUsage().rss);
  };
  /** the upload: counts the bytes and drops them (a GPU upload leaves nothing on the CPU side) */
  const upload = (m: PackedMatrix) => {
    sample();
    uploaded += matBytes(m);
  };
  t0 = performance.now();
  const src = await fileSource(file);
  try {
    const loader = new WeightLoader(cfg, parseSafetensorsFile(src, 'model.safetensors'));
    loader.validate();
    const pieces = loader.packed(resolveFormats('q4'));
    upload(pieces.embedding());
    for (let i = 0; i < 2; i++) {
      const b = pieces.block(i);
      for (const k of ['qkvo', 'ifGate', 'outProj', 'upGateZ', 'down'] as const) upload(b[k].w);
    }
    const h = pieces.head();
    upload(h.lmHead!);
  } finally {
    src.close?.();
  }
  const tLoad = performance.now() - t0;
  const maxRss = process.resourceUsage().maxRSS * 1024;
  // the process-wide high-water mark also counts, when it was set during the load
  if (maxRss > peak && maxRss > base) peak = Math.max(peak, maxRss);
  const above = peak - base;
  console.log(
    `7B-shaped at H 2048, 2 blocks, BF16 → q4 (tables q8): write ${(tWrite / 1000).toFixed(1)} s, load ${(tLoad / 1000).toFixed(1)} s, ` +
      `uploaded ${(uploaded / 1e9).toFixed(2)} GB, peak RSS ${(peak / 1e9).toFixed(2)} GB over a base of ${(base / 1e9).toFixed(2)} GB`,
  );
  expect(uploaded).toBeGreaterThan(0.25e9);
  expect(above).toBeLessThan(1e9);
}, 120_000);
