// The transformers.js-shaped pipeline on the tiny fixture model, and a chat whose state is kept
// across turns and saved to a folder (Node), then resumed.
import { ChatSession, fileStateStorage, pipeline } from '@mlstm/hf-model';

export async function main(folder = 'fixtures/xlstm-tiny/single/model', chats = '.chats') {
  const generator = await pipeline('text-generation', folder, {
    device: 'auto', // 'webgpu' | 'cpu' | 'auto'
    dtype: 'fp32', // GPU weight storage: 'fp32' | 'fp16' | 'auto'
    progress_callback: (p) => {
      if (p.status === 'ready') console.log(`ready: ${p.model}`);
    },
  });
  const [{ generated_text }] = await generator('The matrix memory', { max_new_tokens: 16 });
  // streamed, sampled by the transformers option names
  let streamed = '';
  for await (const piece of generator.stream('The matrix memory', {
    max_new_tokens: 16,
    do_sample: true,
    temperature: 0.8,
    top_k: 40,
    seed: 1,
  }))
    streamed += piece;

  // a chat: each turn prefills only its own text; the state is saved after the turns
  const storage = fileStateStorage(chats);
  const chat = await ChatSession.open(generator.model, {
    storage,
    key: 'demo',
    generation: { maxNewTokens: 16 },
  });
  const first = await chat.send('Hello!');
  const second = await chat.send('Tell me about gates.');
  await chat.save();
  chat.dispose();
  // later (another process): the conversation resumes from the file, history not re-read
  const resumed = await ChatSession.open(generator.model, {
    storage,
    key: 'demo',
    generation: { maxNewTokens: 16 },
  });
  const third = await resumed.send('And the memory?');
  resumed.dispose();
  generator.dispose();
  return {
    generated_text,
    streamed,
    prefill: [first.prefillTokens, second.prefillTokens, third.prefillTokens],
    messages: resumed.messages.length,
  };
}
