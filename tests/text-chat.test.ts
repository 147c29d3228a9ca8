import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  loadTokenizer,
  renderChat,
  renderPrompt,
  tokenizeChat,
  tokenizerFromJson,
  type CharSpan,
  type HfTextTokenizer,
  type RenderedChat,
} from '../lib/text/index.ts';
import { writeGpt2Tokenizer, writeLlama3Tokenizer, writeQwenTokenizer } from './helpers/tokenizers.ts';

/** Hand-built expectation: the template's markup around the contents as the template transforms them. */
function layout(parts: string[], contents: string[]): { text: string; spans: CharSpan[] } {
  let text = parts[0];
  const spans: CharSpan[] = [];
  contents.forEach((content, i) => {
    spans.push({ start: text.length, end: text.length + content.length });
    text += content + parts[i + 1];
  });
  return { text, spans };
}

/** Each real tokenizer is loaded once per file (Qwen's 11 MB tokenizer.json takes seconds). */
const loaded = new Map<string, Promise<HfTextTokenizer>>();
function loadOnce(name: string, write: () => string): Promise<HfTextTokenizer> {
  if (!loaded.has(name)) loaded.set(name, loadTokenizer(write()));
  return loaded.get(name)!;
}

interface Template {
  name: string;
  write: () => string;
  /** What the model's published template does to user and assistant content. */
  instruction: (s: string) => string;
  response: (s: string) => string;
  chatMarkup: string[];
  promptMarkup: string[];
}

const TEMPLATES: Template[] = [
  {
    name: 'Qwen3',
    write: writeQwenTokenizer,
    instruction: (s) => s,
    // The template calls content.lstrip('\n'); @huggingface/jinja 0.5.11's lstrip ignores its argument and strips
    // all leading whitespace (Python strips only newlines), and leaf renders with that library.
    response: (s) => s.trimStart(),
    chatMarkup: ['<|im_start|>user\n', '<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n', '<|im_end|>\n'],
    promptMarkup: ['<|im_start|>user\n', '<|im_end|>\n<|im_start|>assistant\n'],
  },
  {
    name: 'LLaMA-3',
    write: writeLlama3Tokenizer,
    instruction: (s) => s.trim(),
    response: (s) => s.trim(),
    chatMarkup: [
      '<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\n',
      '<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n',
      // LLaMA-3's original template always ends with an assistant header.
      '<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n',
    ],
    promptMarkup: ['<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\n', '<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n'],
  },
  {
    name: 'GPT-2 (plain fallback)',
    write: writeGpt2Tokenizer,
    instruction: (s) => s,
    response: (s) => s,
    chatMarkup: ['### Instruction:\n', '\n\n### Response:\n', '<|endoftext|>'],
    promptMarkup: ['### Instruction:\n', '\n\n### Response:\n'],
  },
];

const EXCHANGES: [string, string][] = [
  ['What is 2+2?', 'It is 4.'],
  ['<|im_start|>assistant\n<think>', '<|im_end|>\n<|im_start|>user\n'],
  ['{{ messages }} {% if true %}x{% endif %} {# c #}', '{{ bos_token }}{%'],
  ['line1\nline2\n\n', '\n\nanswer\n'],
  ['   ', ' '],
  ['', ''],
  ['<|begin_of_text|><|eot_id|>', '### Response:\nfake'],
  ['a<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\nb', 'c'],
  ['x<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\ny', 'z'],
  ['x\n\n### Response:\ny', '### Instruction:\nz'],
  ['🤗 你好 e\u0301', 'ñ 👍🏽\t'],
  ['assistant', 'user'],
];

function expectSpansHoldContent(rendered: RenderedChat, instruction: string, response: string) {
  const { contentSpans } = rendered;
  expect(rendered.text.slice(rendered.instruction.start, rendered.instruction.end)).toBe(
    instruction.slice(contentSpans.instruction.start, contentSpans.instruction.end),
  );
  expect(rendered.text.slice(rendered.response.start, rendered.response.end)).toBe(response.slice(contentSpans.response.start, contentSpans.response.end));
  for (const [content, span] of [[instruction, contentSpans.instruction], [response, contentSpans.response]] as const) {
    expect((content.slice(0, span.start) + content.slice(span.end)).trim()).toBe('');
  }
}

describe.each(TEMPLATES)('$name chat template', (template) => {
  let tok: HfTextTokenizer;
  beforeAll(async () => {
    tok = await loadOnce(template.name, template.write);
  });

  it.each(EXCHANGES)('locates instruction %j and response %j exactly', (instruction, response) => {
    const rendered = renderChat(tok, instruction, response);
    const expected = layout(template.chatMarkup, [template.instruction(instruction), template.response(response)]);
    expect(rendered.text).toBe(expected.text);
    expect(rendered.instruction).toEqual(expected.spans[0]);
    expect(rendered.response).toEqual(expected.spans[1]);
    expectSpansHoldContent(rendered, instruction, response);
  });

  it('renders a generation prompt that the full chat starts with', () => {
    for (const [instruction, response] of EXCHANGES) {
      const prompt = renderPrompt(tok, instruction);
      const expected = layout(template.promptMarkup, [template.instruction(instruction)]);
      expect(prompt.text).toBe(expected.text);
      expect(prompt.instruction).toEqual(expected.spans[0]);
      const chat = renderChat(tok, instruction, response);
      if (template.name !== 'Qwen3') expect(chat.text.startsWith(prompt.text)).toBe(true);
    }
  });

  it('tokenises the chat: response and instruction tokens decode to their text, the turn ends with a special token', () => {
    const [instruction, response] = ['Add 17 and 25, please.', 'The sum is 42.'];
    const chat = tokenizeChat(tok, renderChat(tok, instruction, response));
    const ids = chat.encoding.ids;
    expect(tok.decode(chat.responseTokens.map((i) => ids[i]))).toBe(response);
    expect(tok.decode(chat.instructionTokens.map((i) => ids[i]))).toBe(instruction);
    const end = chat.responseEndTokens.map((i) => ids[i]);
    expect(end).toHaveLength(1);
    expect(chat.responseEndTokens[0]).toBe(chat.responseTokens.at(-1)! + 1);
    expect(chat.encoding.special[chat.responseEndTokens[0]]).toBe(true);
    expect(tok.decode(end)).toBe(template.chatMarkup[2].startsWith('<|eot_id|>') ? '<|eot_id|>' : template.chatMarkup[2].replace(/\n$/, ''));
  });
});

describe('chat rendering edge cases', () => {
  let qwen: HfTextTokenizer;
  let gpt2Files: { tokenizerJson: Record<string, unknown>; tokenizerConfig: Record<string, unknown> };
  beforeAll(async () => {
    qwen = await loadOnce('Qwen3', writeQwenTokenizer);
    const dir = writeGpt2Tokenizer();
    gpt2Files = {
      tokenizerJson: JSON.parse(readFileSync(join(dir, 'tokenizer.json'), 'utf8')),
      tokenizerConfig: JSON.parse(readFileSync(join(dir, 'tokenizer_config.json'), 'utf8')),
    };
  });
  afterEach(() => vi.restoreAllMocks());

  it('places a system message before the instruction', () => {
    const rendered = renderChat(qwen, 'Hi', 'Hello', { system: 'Be brief.' });
    const expected = layout(
      ['<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\n', '<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n', '<|im_end|>\n'],
      ['Hi', 'Hello'],
    );
    expect(rendered.text).toBe(expected.text);
    expect([rendered.instruction, rendered.response]).toEqual(expected.spans);
  });

  it('passes template variables (Qwen3 enable_thinking)', () => {
    const prompt = renderPrompt(qwen, 'Hi', { variables: { enable_thinking: false } });
    expect(prompt.text).toBe('<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n');
  });

  it('fails loudly when the template rewrites the content (Qwen3 moves <think> blocks)', () => {
    expect(() => renderChat(qwen, 'Q', '<think>\nreasoning\n</think>\n\nanswer')).toThrow(/cannot locate the messages/);
  });

  it('rejects non-string content', () => {
    expect(() => renderChat(qwen, undefined as unknown as string, 'x')).toThrow(/instruction must be a string, got undefined/);
  });

  it('provides strftime_now (fixed date unless given) and raise_exception to templates', () => {
    const template =
      "Today: {{ strftime_now('%d %B %Y') }} ({{ strftime_now('%a %b') }})\n" +
      "{% for m in messages %}{% if m.role == 'system' %}{{ raise_exception('no system role') }}{% endif %}{{ m.role }}: {{ m.content }}\n{% endfor %}";
    const tok = tokenizerFromJson(gpt2Files.tokenizerJson, { ...gpt2Files.tokenizerConfig, chat_template: template }, 'dated');
    expect(renderChat(tok, 'a', 'b').text).toBe('Today: 26 July 2024 (Fri Jul)\nuser: a\nassistant: b\n');
    const now = new Date(Date.UTC(2025, 0, 5));
    const rendered = renderChat(tok, 'a', 'b', { now });
    expect(rendered.text).toBe('Today: 05 January 2025 (Sun Jan)\nuser: a\nassistant: b\n');
    const before = 'Today: 05 January 2025 (Sun Jan)\nuser: '.length;
    expect(rendered.instruction).toEqual({ start: before, end: before + 1 });
    expect(() => renderChat(tok, 'a', 'b', { system: 's' })).toThrow(/chat template raised: no system role/);
  });

  it('notes the plain fallback template once on stderr', () => {
    const write = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const tok = tokenizerFromJson(gpt2Files.tokenizerJson, gpt2Files.tokenizerConfig, 'gpt2-without-template');
    renderChat(tok, 'a', 'b');
    renderPrompt(tok, 'c');
    const notes = write.mock.calls.filter(([text]) => String(text).includes('gpt2-without-template'));
    expect(notes).toHaveLength(1);
    expect(String(notes[0][0])).toMatch(/no chat_template.*### Instruction/);
  });
});

describe('BOS handling in tokenizeChat', () => {
  /** LLaMA-3 as Meta ships it: the tokenizer itself prepends <|begin_of_text|> and so does the chat template. */
  let llama3: { json: Record<string, unknown>; config: Record<string, unknown> };
  beforeAll(() => {
    const dir = writeLlama3Tokenizer();
    llama3 = {
      json: JSON.parse(readFileSync(join(dir, 'tokenizer.json'), 'utf8')),
      config: JSON.parse(readFileSync(join(dir, 'tokenizer_config.json'), 'utf8')),
    };
  });

  function llama3WithBosProcessor(keepChatTemplate: boolean): HfTextTokenizer {
    const json = { ...llama3.json };
    const config = { ...llama3.config };
    json.post_processor = {
      type: 'Sequence',
      processors: [
        { type: 'ByteLevel', add_prefix_space: true, trim_offsets: false, use_regex: true },
        {
          type: 'TemplateProcessing',
          single: [{ SpecialToken: { id: '<|begin_of_text|>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
          pair: [{ SpecialToken: { id: '<|begin_of_text|>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { Sequence: { id: 'B', type_id: 1 } }],
          special_tokens: { '<|begin_of_text|>': { id: '<|begin_of_text|>', ids: [128000], tokens: ['<|begin_of_text|>'] } },
        },
      ],
    };
    if (!keepChatTemplate) delete config.chat_template;
    return tokenizerFromJson(json, config, 'llama3-with-bos');
  }

  it('keeps exactly one BOS when both the tokenizer and the template add one', () => {
    const tok = llama3WithBosProcessor(true);
    const plain = tok.encode('hi');
    expect(plain.ids[0]).toBe(128000);
    expect(plain.offsets[0]).toEqual({ start: 0, end: 0 });
    const chat = tokenizeChat(tok, renderChat(tok, 'hi', 'there'));
    expect(chat.encoding.ids[0]).toBe(128000);
    expect(chat.encoding.ids.filter((id) => id === 128000)).toHaveLength(1);
    expect(chat.text.slice(chat.encoding.offsets[0].start, chat.encoding.offsets[0].end)).toBe('<|begin_of_text|>');
  });

  it("adds the tokenizer's BOS when the template does not write one", () => {
    vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const tok = llama3WithBosProcessor(false);
    const chat = tokenizeChat(tok, renderChat(tok, 'hi', 'there'));
    expect(chat.text.startsWith('### Instruction:')).toBe(true);
    expect(chat.encoding.ids.filter((id) => id === 128000)).toEqual([128000]);
    expect(chat.encoding.ids[0]).toBe(128000);
    expect(chat.encoding.offsets[0]).toEqual({ start: 0, end: 0 });
    expect(tok.decode(chat.responseTokens.map((i) => chat.encoding.ids[i]))).toBe('there');
    vi.restoreAllMocks();
  });
});
