// Load the tiny fixture model from a folder and stream generated text.
import { XlstmForCausalLM } from '@mlstm/hf-model';

export async function main(
  folder = 'fixtures/xlstm-tiny/single/model',
  write = (s: string): void => void process.stdout.write(s),
) {
  // 'auto': WebGPU when an adapter is found (Node: the `webgpu` package), else the CPU path
  const model = await XlstmForCausalLM.fromPretrained(folder, { device: 'auto' });
  console.log(`${model.config.dims.blocks} blocks, H = ${model.config.hiddenSize}, on ${model.device}`);
  const prompt = 'The matrix memory';
  write(prompt);
  let text = '';
  for await (const step of model.stream(prompt, { maxNewTokens: 24, temperature: 0.8, topK: 40, seed: 42 })) {
    write(step.text![0]); // decoded text added by this token
    text += step.text![0];
  }
  write('\n');
  model.dispose();
  return text;
}
