import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSynthCorpus, synthWords, writeSynthTokenizers } from '../lib/synth/index.ts';
import { learnMerges } from '../lib/synth/bpe.ts';
import { loadTokenizer, renderChat, renderPrompt, tokenizeChat, type TextTokenizer } from '../lib/text/index.ts';

const dir = mkdtempSync(join(tmpdir(), 'leaf-synth-tok-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const paths = writeSynthTokenizers(dir);

/** The Hugging Face library itself, without lib/text in between. */
function raw(path: string) {
  const json = JSON.parse(readFileSync(join(path, 'tokenizer.json'), 'utf8'));
  const config = JSON.parse(readFileSync(join(path, 'tokenizer_config.json'), 'utf8'));
  return { tokenizer: new Tokenizer(json, config), json, config };
}
const rawStudent = raw(paths.student);
const rawTeacher = raw(paths.teacher);

let student: TextTokenizer;
let teacher: TextTokenizer;
beforeAll(async () => {
  student = await loadTokenizer(paths.student);
  teacher = await loadTokenizer(paths.teacher);
});

const corpus = generateSynthCorpus({
  seed: 3,
  sizes: { 'train-student': 200, 'train-teacher': 200, 'train-distill': 200, test: 200, clean: 200 },
  templates: ['kv-lookup', 'kv-ordered', 'kv-sentence', 'list-index', 'add'],
});
const samples = Object.values(corpus).flat();

describe('student tokenizer (word level)', () => {
  it('is WordLevel: its pieces are exactly the space-separated words, never <unk>', () => {
    expect(rawStudent.json.model.type).toBe('WordLevel');
    const unk = rawStudent.tokenizer.token_to_id('<unk>');
    for (const s of samples) {
      const { ids, tokens } = rawStudent.tokenizer.encode(s.instruction, { add_special_tokens: false });
      expect(tokens).toEqual(s.instruction.split(' '));
      expect(ids).not.toContain(unk);
      expect(rawStudent.tokenizer.encode(s.output, { add_special_tokens: false }).ids).toHaveLength(1);
    }
  });

  it('decodes an answer back to its text', () => {
    for (const answer of ['0', '7', '37', '99']) {
      expect(student.decode(student.encode(answer, { addSpecialTokens: false }).ids)).toBe(answer);
    }
  });
});

describe('teacher tokenizer (byte-level BPE, digits split)', () => {
  it('is a byte-level BPE: encode then decode gives the text back exactly', () => {
    expect(rawTeacher.json.model.type).toBe('BPE');
    for (const s of samples) {
      for (const text of [s.instruction, `\n${s.instruction}`, s.output]) {
        expect(rawTeacher.tokenizer.decode(rawTeacher.tokenizer.encode(text).ids)).toBe(text);
      }
    }
  });

  it('splits numbers into single digits and keeps every generator word whole', () => {
    expect(rawTeacher.tokenizer.tokenize(' 37')).toEqual(['Ġ3', '7']);
    expect(rawTeacher.tokenizer.tokenize('37')).toEqual(['3', '7']);
    for (const word of synthWords()) {
      expect(rawTeacher.tokenizer.tokenize(` ${word}`), word).toEqual([`Ġ${word}`]);
      expect(rawTeacher.tokenizer.tokenize(word), word).toEqual([word]);
    }
    for (const s of samples) {
      for (const token of rawTeacher.tokenizer.tokenize(s.instruction)) expect(token.replace(/\D/g, '').length).toBeLessThanOrEqual(1);
    }
  });

  it('differs from the student: vocabulary, ids, token counts and chat markup', () => {
    expect(teacher.vocabSize).not.toBe(student.vocabSize);
    expect(teacher.tokenToId('is')).not.toBe(student.tokenToId('is'));
    expect(teacher.encode('37', { addSpecialTokens: false }).ids).toHaveLength(2);
    expect(student.encode('37', { addSpecialTokens: false }).ids).toHaveLength(1);
    expect(teacher.chatTemplate).not.toBe(student.chatTemplate);
  });
});

describe('through lib/text (render, tokenize, offsets)', () => {
  const models = () => [['student', student], ['teacher', teacher]] as const;

  it('finds the instruction and response, keeps the generation boundary, and stays short', () => {
    for (const [name, tokenizer] of models()) {
      let longest = 0;
      for (const s of samples) {
        const chat = renderChat(tokenizer, s.instruction, s.output);
        expect(chat.text.slice(chat.instruction.start, chat.instruction.end)).toBe(s.instruction);
        expect(chat.text.slice(chat.response.start, chat.response.end)).toBe(s.output);
        const prompt = renderPrompt(tokenizer, s.instruction).text;
        expect(chat.text.startsWith(prompt + s.output), `${name}: ${chat.text}`).toBe(true);
        // Generation continues the prompt's tokens, so training must see the same token boundary.
        const promptIds = tokenizer.encode(prompt, { addSpecialTokens: false }).ids;
        const tokenized = tokenizeChat(tokenizer, chat);
        const textIds = tokenizer.encode(chat.text, { addSpecialTokens: false }).ids;
        expect(textIds.slice(0, promptIds.length)).toEqual(promptIds);
        expect(tokenized.responseTokens.map((i) => tokenized.encoding.ids[i])).toEqual(tokenizer.encode(s.output, { addSpecialTokens: false }).ids);
        expect(tokenized.responseEndTokens.length, name).toBeGreaterThan(0);
        longest = Math.max(longest, tokenized.encoding.ids.length);
      }
      expect(longest, name).toBeLessThanOrEqual(48);
    }
  });

  it('gives every distractor whole tokens: no token mixes distractor text with other text', () => {
    for (const [name, tokenizer] of models()) {
      for (const s of samples.filter((x) => x.distractor_spans.length > 0)) {
        const chat = renderChat(tokenizer, s.instruction, s.output);
        const { encoding } = tokenizeChat(tokenizer, chat);
        const span = { start: chat.instruction.start + s.distractor_spans[0].start, end: chat.instruction.start + s.distractor_spans[0].end };
        const inside = encoding.offsets.filter((o) => o.start < span.end && o.end > span.start);
        // Byte-level tokens carry their leading space ("Ġhint"); apart from that, a token is all in or all out.
        const first = Math.min(...inside.map((o) => o.start));
        const last = Math.max(...inside.map((o) => o.end));
        expect(last, `${name} ${s.id}`).toBe(span.end);
        expect(chat.text.slice(first, span.start).trim(), `${name} ${s.id}`).toBe('');
        expect(chat.text.slice(first, last).trimStart(), `${name} ${s.id}`).toBe(s.distractor_text);
      }
    }
  });
});

describe('learnMerges', () => {
  it('merges the most frequent pair first and stops when every piece is one symbol', () => {
    // Hand count: "a b" occurs in both pieces (2), "b c" once -> [a,b]; then "ab c" once -> [ab,c].
    expect(learnMerges(['ab', 'abc'])).toEqual([['a', 'b'], ['ab', 'c']]);
    // Ties go to the pair whose text sorts first: "x y" and "y z" both once -> [x,y] first.
    expect(learnMerges(['xyz'])).toEqual([['x', 'y'], ['xy', 'z']]);
  });
});
