// A random-weight xLSTM of any shape (no download): forward with a state cache, then greedy decoding.
import { estimateMemory, parseXlstmConfig, XlstmForCausalLM } from '@mlstm/hf-model';

export async function main(device: 'cpu' | 'webgpu' | 'auto' = 'auto') {
  // transformers' xLSTMConfig keys (config.json); the 7B has embedding_dim 4096, num_blocks 32, num_heads 8
  const config = parseXlstmConfig({
    embedding_dim: 64,
    num_blocks: 2,
    num_heads: 2,
    vocab_size: 256,
    chunk_size: 16,
  });
  console.log(estimateMemory(config, { weightDtype: 'f32', batch: 1, seqLen: 64 }));

  const model = await XlstmForCausalLM.fromRandom(config, { device, seed: 7 });
  // prefill three tokens, then one more token with the cache: same logits as all four at once
  const cache = model.newCache(1);
  await model.forward([[5, 17, 42]], { cache, lastOnly: true });
  const step = await model.forward([[99]], { cache, lastOnly: true });
  const all = await model.forward([[5, 17, 42, 99]], { lastOnly: true });
  let maxDiff = 0;
  for (let j = 0; j < all.logits.length; j++)
    maxDiff = Math.max(maxDiff, Math.abs(all.logits[j] - step.logits[j]));

  const { tokens } = await model.generate([[5, 17, 42]], { maxNewTokens: 8, temperature: 0, stopTokens: [] });
  cache.release();
  model.dispose();
  return { device: model.device, logitsShape: step.shape, maxDiff, tokens: tokens[0] };
}
