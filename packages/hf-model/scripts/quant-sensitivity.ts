/**
 * Which weights make the quantised tiny fixtures' logits move: each class of matrices (q/k, v,
 * o-gate, input/forget gates, out_proj, FFN up/gate, FFN down, embedding, lm_head) quantised alone
 * (quantise, then dequantise: the values the CPU path computes with), every other weight f32;
 * max |Δ logit| / max |logit| against transformers' f32 logits over every fixture case, and top-1
 * agreement over their positions. Runs on the CPU in a few seconds:
 * `npx esbuild packages/hf-model/scripts/quant-sensitivity.ts --bundle --platform=node --format=esm
 * --conditions=@mlstm/source --external:webgpu --outfile=packages/hf-model/dist/qs.mjs && node
 * packages/hf-model/dist/qs.mjs`. (The fused fixture names its matrices otherwise: only the classes
 * its names match are quantised there.)
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  XlstmForCausalLM,
  argmax,
  decodeEntry,
  parseSafetensorsFile,
  writeSafetensorsF32,
} from '../src/index.js';
import { dequantize, quantize } from '../src/quant/formats.js';
import { CASES, idsOf, loadFixture, maxAbsDiff, modelDir } from '../test/helpers.js';
const V = 512;
for (const variant of ['single', 'fused'] as const) {
  const fx = loadFixture(variant);
  const store = parseSafetensorsFile(readFileSync(join(modelDir(variant), 'model.safetensors')));
  const base: Record<string, { shape: number[]; data: Float32Array }> = {};
  for (const [k, e] of store.tensors) base[k] = { shape: e.shape, data: decodeEntry(e) };
  const cfg = readFileSync(join(modelDir(variant), 'config.json'), 'utf8');
  const classes: Record<string, RegExp> = {
    // 'all': every matrix (the format's whole-model figure)
    all: /weight$/,
    qk: /\.(q|k)\.weight$/,
    v: /\.v\.weight$/,
    ogate: /ogate_preact\.weight$/,
    ifgate: /(igate|fgate)_preact\.weight$/,
    out: /out_proj\.weight$/,
    ffn_upgate: /proj_up(_gate)?\.weight$/,
    ffn_down: /proj_down\.weight$/,
    emb: /embeddings?\.weight$/,
    head: /lm_head\.weight$/,
  };
  for (const fmt of ['q8', 'q4'] as const) {
    for (const [cname, re] of Object.entries(classes)) {
      const t: Record<string, { shape: number[]; data: Float32Array }> = {};
      for (const [k, v] of Object.entries(base)) {
        if (re.test(k) && v.shape.length === 2 && !k.includes('norm')) {
          const [r, c] = v.shape;
          t[k] = { shape: v.shape, data: dequantize(quantize(fmt, v.data, r, c)) };
        } else t[k] = v;
      }
      const file = writeSafetensorsF32(t);
      const m = await XlstmForCausalLM.fromPretrained(
        { files: { 'config.json': cfg, 'model.safetensors': file } } as never,
        { device: 'cpu', dtype: 'f32' },
      );
      let diff = 0,
        maxRef = 0,
        agree = 0,
        pos = 0;
      for (const c of CASES) {
        const r = await m.forward(idsOf(fx.tensors[`input_ids.${c}`]));
        const ref = fx.tensors[`logits.${c}`].data;
        for (const v of ref) maxRef = Math.max(maxRef, Math.abs(v));
        diff = Math.max(diff, maxAbsDiff(r.logits, ref));
        for (let p = 0; p < ref.length / V; p++) {
          pos++;
          if (argmax(r.logits.subarray(p * V, (p + 1) * V)) === argmax(ref.subarray(p * V, (p + 1) * V)))
            agree++;
        }
      }
      console.log(
        `${variant} ${fmt} only ${cname.padEnd(11)} rel ${(diff / maxRef).toExponential(2)} top1 ${agree}/${pos}`,
      );
    }
  }
}
