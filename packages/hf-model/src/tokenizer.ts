/**
 * The tokenizer, from `tokenizer.json` (+ `tokenizer_config.json`) through
 * `@huggingface/tokenizers` (pure JS, browsers and Node). BOS handling as the spec says (§7):
 * the GPT-NeoX tokenizer adds none, so the model prepends `bos_token_id` unless the prompt
 * already starts with it.
 */
import { Tokenizer } from '@huggingface/tokenizers';

export class XlstmTokenizer {
  private readonly tok: Tokenizer;

  constructor(tokenizerJson: object, tokenizerConfig: object = {}) {
    this.tok = new Tokenizer(tokenizerJson, tokenizerConfig);
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
