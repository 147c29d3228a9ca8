import { Environment, Interpreter, Template } from '@huggingface/jinja';
import type { TextTokenizer } from './types.ts';

/**
 * Template used for tokenizers without a chat template (base models such as GPT-2): the Alpaca
 * layout, ending the response with the EOS token so a model trained on it learns to stop.
 * Markup starts and ends with newlines, which most pre-tokenizers keep apart from words, so
 * markup and content seldom share a token.
 */
export const PLAIN_CHAT_TEMPLATE =
  "{%- for message in messages -%}" +
  "{%- if message.role == 'system' -%}{{ message.content + '\\n\\n' }}" +
  "{%- elif message.role == 'user' -%}{{ '### Instruction:\\n' + message.content + '\\n\\n' }}" +
  "{%- elif message.role == 'assistant' -%}{{ '### Response:\\n' + message.content }}{% if eos_token %}{{ eos_token }}{% endif %}" +
  "{%- else -%}{{ raise_exception('unsupported role: ' + message.role) }}" +
  '{%- endif -%}' +
  '{%- endfor -%}' +
  "{%- if add_generation_prompt -%}{{ '### Response:\\n' }}{%- endif -%}";

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export interface TemplateOptions {
  /** Date that `strftime_now` reports (LLaMA-3.1 templates print it). Fixed by default so renders are reproducible. */
  now?: Date;
  /** Extra variables for the template (e.g. `enable_thinking`). */
  variables?: Record<string, unknown>;
}

/** Fixed default for `strftime_now`: runs started on different days render identical prompts. */
export const DEFAULT_TEMPLATE_DATE = new Date(Date.UTC(2024, 6, 26));

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

/** Python's strftime for the directives chat templates use, in English and UTC whatever the machine's locale. */
export function strftime(date: Date, format: string): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return format.replace(/%-?./g, (directive) => {
    switch (directive) {
      case '%Y': return String(date.getUTCFullYear());
      case '%y': return pad(date.getUTCFullYear() % 100);
      case '%m': return pad(date.getUTCMonth() + 1);
      case '%d': return pad(date.getUTCDate());
      case '%-d': return String(date.getUTCDate());
      case '%B': return MONTHS[date.getUTCMonth()];
      case '%b': return MONTHS[date.getUTCMonth()].slice(0, 3);
      case '%A': return DAYS[date.getUTCDay()];
      case '%a': return DAYS[date.getUTCDay()].slice(0, 3);
      case '%H': return pad(date.getUTCHours());
      case '%M': return pad(date.getUTCMinutes());
      case '%S': return pad(date.getUTCSeconds());
      case '%%': return '%';
      default: throw new Error(`strftime_now: unsupported directive ${directive}`);
    }
  });
}

const compiled = new WeakMap<TextTokenizer, Template>();
const warned = new Set<string>();

function templateOf(tokenizer: TextTokenizer): Template {
  let template = compiled.get(tokenizer);
  if (template) return template;
  const source = tokenizer.chatTemplate ?? PLAIN_CHAT_TEMPLATE;
  if (tokenizer.chatTemplate === undefined && !warned.has(tokenizer.source)) {
    warned.add(tokenizer.source);
    process.stderr.write(`note: ${tokenizer.source} has no chat_template; using leaf's plain "### Instruction / ### Response" template\n`);
  }
  try {
    template = new Template(source);
  } catch (error) {
    throw new Error(`${tokenizer.source}: cannot parse chat_template: ${(error as Error).message}`);
  }
  compiled.set(tokenizer, template);
  return template;
}

/** The special-token strings templates refer to, from the tokenizer's ids. */
function specialTokenVariables(tokenizer: TextTokenizer): Record<string, string> {
  const vars: Record<string, string> = {};
  const put = (name: string, id: number | undefined) => {
    const token = id === undefined ? undefined : tokenizer.idToToken(id);
    if (token !== undefined) vars[name] = token;
  };
  put('bos_token', tokenizer.bosTokenId);
  put('eos_token', tokenizer.eosTokenIds[0]);
  put('pad_token', tokenizer.padTokenId);
  return vars;
}

function range(start: number, stop?: number, step = 1): number[] {
  if (stop === undefined) [start, stop] = [0, start];
  if (step === 0) throw new Error('range() step must not be zero');
  const out: number[] = [];
  for (let i = start; step > 0 ? i < stop : i > stop; i += step) out.push(i);
  return out;
}

/**
 * Renders `messages` with the tokenizer's chat template (or the plain one). The environment is
 * built here rather than by `Template.render`, whose built-in `strftime_now` reads the clock in the
 * machine's locale and cannot be replaced.
 */
export function applyChatTemplate(
  tokenizer: TextTokenizer,
  messages: ChatMessage[],
  addGenerationPrompt: boolean,
  options: TemplateOptions = {},
): string {
  const now = options.now ?? DEFAULT_TEMPLATE_DATE;
  const variables: Record<string, unknown> = {
    true: true,
    false: false,
    none: null,
    True: true,
    False: false,
    None: null,
    range,
    raise_exception: (message: unknown) => {
      throw new Error(`chat template raised: ${String(message)}`);
    },
    strftime_now: (format: string) => strftime(now, format),
    ...specialTokenVariables(tokenizer),
    ...options.variables,
    messages,
    add_generation_prompt: addGenerationPrompt,
  };
  const env = new Environment();
  for (const [name, value] of Object.entries(variables)) env.set(name, value);
  try {
    return new Interpreter(env).run(templateOf(tokenizer).parsed).value as string;
  } catch (error) {
    throw new Error(`${tokenizer.source}: rendering the chat template failed: ${(error as Error).message}`);
  }
}
