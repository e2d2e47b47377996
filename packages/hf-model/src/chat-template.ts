/**
 * The tokenizer config's `chat_template` (Jinja, rendered by `@huggingface/jinja`), with the
 * special tokens of the config (`bos_token`, `eos_token`, …) in scope as transformers passes them.
 * Used by the text-generation pipeline and by `ChatSession`.
 */
import { Template } from '@huggingface/jinja';

/** A message as chat templates take it. */
export interface TemplateMessage {
  role: string;
  content: string;
}

/** A special token of a tokenizer config as text (`"<s>"` or `{ content: "<s>", … }`). */
const tokenText = (t: unknown): string | undefined =>
  typeof t === 'string'
    ? t
    : t && typeof t === 'object' && 'content' in t
      ? String((t as { content: unknown }).content)
      : undefined;

export class ChatTemplate {
  private readonly template: Template;

  /** @param source the Jinja text; `tokenizerConfig` supplies the special tokens */
  constructor(
    readonly source: string,
    private readonly tokenizerConfig: Readonly<Record<string, unknown>> = {},
  ) {
    this.template = new Template(source);
  }

  /** The template of a tokenizer config (`chat_template` as a string), or null when it has none. */
  static fromTokenizerConfig(config: Readonly<Record<string, unknown>>): ChatTemplate | null {
    return typeof config.chat_template === 'string' ? new ChatTemplate(config.chat_template, config) : null;
  }

  /** The prompt text of `messages` (`add_generation_prompt` default true). */
  render(messages: readonly TemplateMessage[], opts: { add_generation_prompt?: boolean } = {}): string {
    const c = this.tokenizerConfig;
    return this.template.render({
      messages: messages.map((m) => ({ ...m })),
      add_generation_prompt: opts.add_generation_prompt ?? true,
      bos_token: tokenText(c.bos_token) ?? '',
      eos_token: tokenText(c.eos_token) ?? '',
      pad_token: tokenText(c.pad_token) ?? '',
      unk_token: tokenText(c.unk_token) ?? '',
    });
  }
}
