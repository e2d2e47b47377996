/**
 * The q8 / q4 formats and the reference (de)quantiser: the byte layout on hand-made groups, the
 * dequantiser against an independent element-by-element reading of the layout (exact), the
 * quantisation error bounds, padding of rows that are not a multiple of 32, row slices and
 * stacking, memory per format, and the typed errors.
 */
import { f16BitsToF32 } from '@mlstm/kernels-webgpu';
import { describe, expect, test } from 'vitest';
import { estimateMemory, parseXlstmConfig, QuantFormatError } from '../src/index.js';
import {
  concatRows,
  dequantize,
  GROUP_SIZE,
  groupsPerRow,
  matrixBytes,
  type QuantFormat,
  quantize,
  sliceRows,
  wordsPerRow,
} from '../src/quant/formats.js';

let seed = 11;
const rnd = (n: number, scale = 1) =>
  Float32Array.from(
    { length: n },
    () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31 - 0.5) * 2 * scale,
  );

/** Reads value (r, k) straight from the documented layout (independent of quantAt / dequantize). */
function readValue(format: QuantFormat, m: ReturnType<typeof quantize>, r: number, k: number): number {
  const G = groupsPerRow(m.cols);
  const g = Math.floor(k / 32);
  const j = k % 32;
  const s = f16BitsToF32(m.scales[r * G + g]);
  const bytes = new Uint8Array(m.data.buffer, m.data.byteOffset, m.data.byteLength);
  const rowByte = r * wordsPerRow(format, m.cols) * 4;
  if (format === 'q8') {
    const b = bytes[rowByte + g * 32 + j]; // little-endian: byte j of the group
    return (b >= 128 ? b - 256 : b) * s;
  }
  const b = bytes[rowByte + g * 16 + (j >> 1)]; // two nibbles per byte, low nibble first
  const nib = j & 1 ? b >> 4 : b & 15;
  return (nib - 8) * s;
}

const SHAPES: [number, number][] = [
  [1, 1],
  [3, 31],
  [2, 32],
  [5, 33],
  [4, 100],
  [7, 128],
  [3, 257],
];

describe('byte layout', () => {
  test('q8: one group, bytes in order, two’s complement, scale max/127', () => {
    const w = Float32Array.from({ length: 32 }, (_, k) => (k - 16) / 16); // −1 … 0.9375
    const m = quantize('q8', w, 1, 32);
    expect(m.data.length).toBe(8);
    expect(f16BitsToF32(m.scales[0])).toBeCloseTo(1 / 127, 6);
    // value 0 is −1 → q = −127 = 0x81; value 16 is 0 → 0; byte k of the group is byte k%4 of word k/4
    expect(m.data[0] & 0xff).toBe(0x81);
    expect(m.data[4] & 0xff).toBe(0);
    expect((m.data[7] >>> 24) & 0xff).toBe(Math.round(0.9375 / f16BitsToF32(m.scales[0])));
  });

  test('q4: nibble k%8 of word k/8 holds q + 8; the extreme value lands on −8', () => {
    const w = new Float32Array(32);
    w[0] = 0.8; // the value of largest magnitude: s = −0.1, q = −8 → nibble 0
    w[1] = -0.3; // q = 3 → nibble 11
    w[9] = 0.1; // q = −1 → nibble 7
    w[31] = -0.8; // 8 clamps to 7 → nibble 15
    const m = quantize('q4', w, 1, 32);
    expect(m.data.length).toBe(4);
    expect(f16BitsToF32(m.scales[0])).toBeCloseTo(-0.1, 4);
    expect(m.data[0] & 0xf).toBe(0);
    expect((m.data[0] >>> 4) & 0xf).toBe(11);
    expect((m.data[1] >>> 4) & 0xf).toBe(7);
    expect(m.data[3] >>> 28).toBe(15);
    expect((m.data[2] >>> 8) & 0xf).toBe(8); // a zero weight
  });

  test('a zero group has scale 0 and dequantises to zeros; padding of a short row quantises to 0', () => {
    for (const f of ['q8', 'q4'] as const) {
      const m = quantize(f, new Float32Array(40), 1, 40);
      expect([...m.scales]).toEqual([0, 0]);
      expect(dequantize(m).every((v) => v === 0)).toBe(true);
      const short = quantize(f, rnd(5), 1, 5);
      for (let k = 5; k < 32; k++) expect(readValue(f, short, 0, k)).toBe(0);
    }
  });
});

describe.each(['q8', 'q4'] as const)('%s reference (de)quantiser', (f) => {
  test.each(SHAPES)('[%i, %i]: dequantize reads the layout exactly; error bounds per group', (rows, cols) => {
    const w = rnd(rows * cols, 0.7);
    const m = quantize(f, w, rows, cols);
    const G = groupsPerRow(cols);
    expect(m.data.length).toBe(rows * wordsPerRow(f, cols));
    expect(m.scales.length).toBe(rows * G);
    const d = dequantize(m);
    for (let r = 0; r < rows; r++) {
      for (let k = 0; k < cols; k++) {
        expect(d[r * cols + k]).toBe(Math.fround(readValue(f, m, r, k)));
        // bounds: half a step in q8 (no clamping: max/s ≤ 127·(1 + 2⁻¹¹) < 127.5); in q4 values of
        // the sign opposite to the extreme above 7.5 steps clamp to 7, at most one step off
        const s = Math.abs(f16BitsToF32(m.scales[r * G + Math.floor(k / 32)]));
        const err = Math.abs(d[r * cols + k] - w[r * cols + k]);
        expect(err).toBeLessThanOrEqual(f === 'q8' ? s / 2 + 1e-7 : s * (1 + 2 ** -7));
      }
    }
    // and the relative RMS error over the matrix is small (8 / 4 bits over a uniform ±0.7)
    let e2 = 0;
    let w2 = 0;
    for (let x = 0; x < w.length; x++) {
      e2 += (d[x] - w[x]) ** 2;
      w2 += w[x] ** 2;
    }
    if (w.length >= 32) expect(Math.sqrt(e2 / w2)).toBeLessThan(f === 'q8' ? 0.01 : 0.15);
  });

  test('rows quantise independently: a row slice equals the rows quantised alone; stacking', () => {
    const w = rnd(9 * 70);
    const m = quantize(f, w, 9, 70);
    const s = sliceRows(m, 3, 7);
    const alone = quantize(f, w.subarray(3 * 70, 7 * 70), 4, 70);
    expect([...s.data]).toEqual([...alone.data]);
    expect([...s.scales]).toEqual([...alone.scales]);
    const stacked = concatRows([sliceRows(m, 0, 3), sliceRows(m, 3, 9)]);
    expect([...stacked.data]).toEqual([...m.data]);
    expect(dequantize(m, undefined, 3, 7)).toEqual(dequantize(alone));
  });

  test('quantising the dequantised weights again gives the same bits', () => {
    const w = rnd(6 * 96);
    const m = quantize(f, w, 6, 96);
    const again = quantize(f, dequantize(m), 6, 96);
    expect([...again.data]).toEqual([...m.data]);
    expect([...again.scales]).toEqual([...m.scales]);
  });

  test('typed errors: a non-finite value, a wrong length', () => {
    const w = rnd(64);
    w[40] = Number.NaN;
    const e = (() => {
      try {
        quantize(f, w, 2, 32, 'lm_head.weight');
      } catch (x) {
        return x as QuantFormatError;
      }
    })();
    expect(e).toBeInstanceOf(QuantFormatError);
    expect(e?.tensor).toBe('lm_head.weight');
    expect(e?.message).toMatch(/row 1 .*not finite/);
    expect(() => quantize(f, rnd(10), 2, 6)).toThrow(QuantFormatError);
  });
});

test('an unknown format is a QuantFormatError', () => {
  expect(() => quantize('q3' as QuantFormat, rnd(32), 1, 32, 'x.weight')).toThrow(
    /x.weight: unknown quantised format "q3"/,
  );
});

test('memory per format: bytes of a matrix and of the 7B shape', () => {
  expect(matrixBytes('q8', 2, 64)).toBe(2 * (64 + 4));
  expect(matrixBytes('q4', 2, 64)).toBe(2 * (32 + 4));
  expect(matrixBytes('q4', 1, 33)).toBe(2 * 16 + 2 * 2); // 33 values take two groups
  expect(GROUP_SIZE).toBe(32);
  const c = parseXlstmConfig({
    hidden_size: 4096,
    num_heads: 8,
    num_blocks: 32,
    num_hidden_layers: 32,
    vocab_size: 50304,
  });
  const f16 = estimateMemory(c, { dtype: 'f16' }).weightBytes;
  const all = (f: 'q8' | 'q4') => ({ dtype: f, embeddingDtype: f, lmHeadDtype: f });
  const q8 = estimateMemory(c, all('q8')).weightBytes;
  const q4 = estimateMemory(c, all('q4')).weightBytes;
  expect(f16).toBe(2 * 6_865_424_896);
  // 8.5 and 4.5 bits per matrix weight plus the f32 norms and biases
  expect(q8 / 1e9).toBeCloseTo(7.29, 1);
  expect(q4 / 1e9).toBeCloseTo(3.86, 1);
  // the defaults: q8 with f16 tables, q4 with q8 tables
  const table = matrixBytes('f16', 50304, 4096);
  expect(estimateMemory(c, { dtype: 'q8' }).weightBytes - q8).toBe(
    2 * (table - matrixBytes('q8', 50304, 4096)),
  );
  expect(estimateMemory(c, { dtype: 'q4' }).weightBytes / 1e9).toBeCloseTo(4.07, 1);
  const q4e = estimateMemory(c, { ...all('q4'), embeddingDtype: 'f16' }).weightBytes;
  expect(q4e - q4).toBe(table - matrixBytes('q4', 50304, 4096));
  expect(estimateMemory(c, { dtype: 'q4' }).largestTensor.name).toBe('embedding');
});
