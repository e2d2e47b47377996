/**
 * The tokenizer, from `tokenizer.json` (+ `tokenizer_config.json`) through
 * `@huggingface/tokenizers` (pure JS, browsers and Node). BOS handling as the spec says (§7):
 * the GPT-NeoX tokenizer adds none, so the model prepends `bos_token_id` unless the prompt
 * already starts with it.
 */
import { Tokenizer } from '@huggingface/tokenizers';
import { ChatTemplate } from './chat-template.js';

export class XlstmTokenizer {
  private readonly tok: Tokenizer;
  /** `tokenizer_config.json` as loaded (special tokens, `chat_template`, …) */
  readonly config: Readonly<Record<string, unknown>>;
  private template: ChatTemplate | null | undefined;

  constructor(tokenizerJson: object, tokenizerConfig: object = {}) {
    this.tok = new Tokenizer(tokenizerJson, tokenizerConfig);
    this.config = { ...(tokenizerConfig as Record<string, unknown>) };
  }

  /** The config's `chat_template` (parsed on first use), or null when it has none. */
  get chatTemplate(): ChatTemplate | null {
    if (this.template === undefined) this.template = ChatTemplate.fromTokenizerConfig(this.config);
    return this.template;
  }

  /** Token ids of `text` (no BOS/EOS added). */
  encode(text: string): number[] {
    if (text === '') return [];
    return this.tok.encode(text, { add_special_tokens: false }).ids;
  }

  /** Text of `ids` (special tokens kept unless `skipSpecialTokens`). */
  decode(ids: readonly number[], opts: { skipSpecialTokens?: boolean } = {}): string {
    if (ids.length === 0) return '';
    return this.tok.decode([...ids], {
      skip_special_tokens: opts.skipSpecialTokens ?? false,
      clean_up_tokenization_spaces: false,
    });
  }

  /** Id of a token string (e.g. `<|endoftext|>`), or undefined. */
  tokenToId(token: string): number | undefined {
    const e = this.tok.encode(token, { add_special_tokens: false }).ids;
    return e.length === 1 ? e[0] : undefined;
  }
}
