import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getAttributionMethod, registerAttributionMethod } from '../lib/attribution/index.ts';
import { minMaxNormalize, parseRuleSpec, resolveRule } from '../lib/confounders/index.ts';
import { buildRows, type ComparisonSettings } from '../lib/analyze/rows.ts';
import { scoreSamples, type ScoringSettings } from '../lib/analyze/score.ts';
import { modelSide } from '../lib/analyze/sides.ts';
import type { ModelSide } from '../lib/analyze/prepare.ts';
import type { Sample } from '../lib/corpus/types.ts';
import { createRandomModel, loadModel } from '../lib/models/index.ts';
import type { CausalLM } from '../lib/models/types.ts';
import { initRuntime } from '../lib/runtime/index.ts';
import { loadTokenizer } from '../lib/text/index.ts';
import type { TextTokenizer } from '../lib/text/types.ts';
import { writeLlama3Tokenizer, writeQwenTokenizer } from './helpers/tokenizers.ts';

let qwen: TextTokenizer;
let llama: TextTokenizer;
// Random models sized for the real vocabularies (d=16, one layer), made once: two on Qwen's, one on LLaMA-3's.
let qwenA: CausalLM;
let qwenB: CausalLM;
let llamaA: CausalLM;

function sample(index: number, instruction: string, output: string): Sample {
  return { id: `s${index}`, index, instruction, input: '', output, answer: '', extra: {} };
}

const tiny = (modelType: string, vocabSize: number, seed: number) =>
  createRandomModel({ modelType, vocabSize, hiddenSize: 16, numLayers: 1, numHeads: 2, numKvHeads: 1, intermediateSize: 32, tieWordEmbeddings: true }, seed, { initStd: 0.5 });

function settings(over: Partial<ScoringSettings> = {}): ScoringSettings {
  return {
    method: getAttributionMethod('grad-l2'),
    methodOptions: { batchSize: 4, igSteps: 4, igAggregate: 'l2' },
    level: 'instruction',
    segments: 2,
    length: { maxLength: 4096, onLong: 'skip' },
    rule: resolveRule('percentile'),
    responseRule: resolveRule('percentile'),
    projection: 'max',
    ...over,
  };
}

// An oracle method: a token's score says only whether it holds a digit, so the expected flags are
// known exactly whatever the tokenisation. Teacher: digits 0, rest 1. Student: digits 1, rest 0.
const oracleRoles = new Map<CausalLM, { tokenizer: TextTokenizer; digit: number }>();
registerAttributionMethod({
  name: 'test-digit-oracle',
  description: 'test only',
  score: (model, inputs) =>
    inputs.map((input) => {
      const { tokenizer, digit } = oracleRoles.get(model)!;
      return { loss: 1, scores: Float32Array.from(input.ids, (id) => (/\d/.test(tokenizer.decode([id])) ? digit : 1 - digit)) };
    }),
});
function oracleSide(role: ModelSide['role'], tokenizer: TextTokenizer): ModelSide {
  const model = { config: { vocabSize: tokenizer.vocabSize } } as CausalLM;
  oracleRoles.set(model, { tokenizer, digit: role === 'teacher' ? 0 : 1 });
  return modelSide(role, model, tokenizer);
}

beforeAll(async () => {
  await initRuntime({ backend: 'cpu', quiet: true });
  qwen = await loadTokenizer(writeQwenTokenizer());
  llama = await loadTokenizer(writeLlama3Tokenizer());
  qwenA = tiny('qwen2', qwen.vocabSize, 1);
  qwenB = tiny('qwen2', qwen.vocabSize, 2);
  llamaA = tiny('llama', llama.vocabSize, 3);
});

afterAll(() => [qwenA, qwenB, llamaA].forEach((m) => m.dispose()));

describe('cross-tokenizer comparison', () => {
  const text = ' Tom has 3 apples. Note 98765 is irrelevant.\nHow many apples? ';
  const digits = [...text.matchAll(/\d+/g)].map((m) => ({ start: m.index, end: m.index + m[0].length }));

  for (const [teacherName, studentName] of [['qwen', 'llama3'], ['llama3', 'qwen'], ['llama3', 'llama3'], ['qwen', 'qwen']] as const) {
    it(`${teacherName} teacher, ${studentName} student: flagged spans are the digits' characters`, () => {
      const tok = { qwen: () => qwen, llama3: () => llama };
      const s = settings({ method: getAttributionMethod('test-digit-oracle'), rule: parseRuleSpec('absolute:tau=0') });
      const [outcome] = scoreSamples([sample(0, text, 'He has 3.')], oracleSide('teacher', tok[teacherName]()), oracleSide('student', tok[studentName]()), s, 1);
      if (!('rows' in outcome)) throw new Error(outcome.skipped);
      const [row] = outcome.rows;
      expect(row.text).toBe(text);
      expect(row.spans).toEqual(digits);
      row.tokens.forEach((token, i) => expect(token).toBe(text.slice(row.char_start[i], row.char_end[i])));
    });
  }

  it('identical tokenisations take the direct path, and projecting through characters gives the same rows', () => {
    const teacher = modelSide('teacher', qwenA, qwen);
    const student = modelSide('student', qwenB, qwen);
    const samples = [sample(0, 'Add 12 and 30, then explain why.', '42.'), sample(1, 'Name a colour of the sky at noon.', 'Blue.')];
    const direct = scoreSamples(samples, teacher, student, settings(), 2);
    const forced = scoreSamples(samples, teacher, student, settings({ forceProjection: true }), 2);
    expect(forced).toEqual(direct);
    for (const outcome of direct) expect('rows' in outcome && outcome.rows[0].teacher_score.length).toBeGreaterThan(5);
  });

  it('a real cross-tokenizer run (Qwen teacher, LLaMA-3 student) gives rows on the student tokens of the same text', () => {
    const teacher = modelSide('teacher', qwenA, qwen);
    const student = modelSide('student', llamaA, llama);
    const [outcome] = scoreSamples([sample(0, text, '3.')], teacher, student, settings({ rule: parseRuleSpec('percentile:p=0.3') }), 1);
    if (!('rows' in outcome)) throw new Error(outcome.skipped);
    const [row] = outcome.rows;
    expect(row.text).toBe(text);
    // LLaMA-3's template trims the message: its first token "Tom" starts at character 1 of the sample's text.
    expect(row.tokens.slice(0, 3)).toEqual(['Tom', ' has', ' ']);
    expect(row.char_start[0]).toBe(1);
    expect(row.spans.length).toBeGreaterThan(0);
    for (const span of row.spans) {
      const inside = row.flagged.map((_, i) => row.char_start[i] >= span.start && row.char_end[i] <= span.end);
      expect(row.char_start).toContain(span.start);
      expect(row.char_end).toContain(span.end);
      expect(inside.every((isIn, i) => !isIn || row.flagged[i])).toBe(true);
    }
    expect(Math.min(...row.teacher_norm)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...row.teacher_norm)).toBeLessThanOrEqual(1);
  });
});

describe('grad-l2 Δ against the models engineer\'s independent fixtures', () => {
  it('matches min-max(teacher norms) − min-max(student norms) from tests/fixtures/numerics to 1e-4', async () => {
    const expected = JSON.parse(readFileSync('tests/fixtures/numerics/expected.json', 'utf8')).cases;
    const teacherCase = expected['llama-gqa-untied'][0];
    const studentCase = expected['qwen2-gqa-tied-bias'][0];
    expect(studentCase.ids).toEqual(teacherCase.ids);
    const ids: number[] = teacherCase.ids;
    const targets = ids.map((_, i) => i).filter((i) => teacherCase.targetMask[i] === 1);
    const region = Array.from({ length: targets[0] - 1 }, (_, k) => k + 1);
    const teacher = await loadModel('tests/fixtures/numerics/llama-gqa-untied');
    const student = await loadModel('tests/fixtures/numerics/qwen2-gqa-tied-bias');
    const method = getAttributionMethod('grad-l2');
    const options = { padId: 0, batchSize: 1, igSteps: 1, igAggregate: 'l2' as const };
    const input = { ids, targets, scored: region };
    const spans = region.map((_, k) => ({ start: k, end: k + 1 }));
    const prepared = { input, regions: [{ tokens: region, spans }] };
    const layout = { user: 'abcdef', response: 'r', target: { start: 0, end: 1 }, regions: [{ name: 'instruction', field: 'user' as const, span: { start: 0, end: region.length }, text: 'abcdef'.slice(0, region.length) }] };
    const compare: ComparisonSettings = { rule: resolveRule('percentile'), responseRule: resolveRule('percentile') };
    const [row] = buildRows(
      'fixture',
      layout,
      { prepared, scores: method.score(teacher, [input], options)[0] },
      { prepared, scores: method.score(student, [input], options)[0] },
      compare,
    );
    const hand = (norms: number[]) => minMaxNormalize(region.map((i) => norms[i]));
    const t = hand(teacherCase.gradNorms);
    const s = hand(studentCase.gradNorms);
    region.forEach((_, k) => expect(Math.abs(row.delta[k] - (t[k] - s[k]))).toBeLessThanOrEqual(1e-4));
    expect(row.teacher_loss).toBeCloseTo(teacherCase.nll, 4);
    expect(row.student_loss).toBeCloseTo(studentCase.nll, 4);
    teacher.dispose();
    student.dispose();
  });
});

describe('sample preparation', () => {
  it('response level: earlier segments are regions, the last is the target', () => {
    const teacher = modelSide('teacher', qwenA, qwen);
    const student = modelSide('student', llamaA, llama);
    const output = 'First we count the apples.\nThen we add two more.\n5.';
    const [outcome] = scoreSamples([sample(0, 'How many apples?', output)], teacher, student, settings({ level: 'response', segments: 3 }), 1);
    if (!('rows' in outcome)) throw new Error(outcome.skipped);
    expect(outcome.rows.map((r) => [r.region, r.text])).toEqual([
      ['instruction', 'How many apples?'],
      ['response-1', 'First we count the apples.\n'],
      ['response-2', 'Then we add two more.\n'],
    ]);
  });

  it('over-long samples are skipped with a reason, or truncated to a response prefix', () => {
    const teacher = modelSide('teacher', qwenA, qwen);
    const student = modelSide('student', qwenB, qwen);
    const long = sample(0, 'Count.', Array.from({ length: 30 }, (_, i) => `${i}`).join(' '));
    const [skipped] = scoreSamples([long], teacher, student, settings({ length: { maxLength: 30, onLong: 'skip' } }), 1);
    expect(skipped).toMatchObject({ skipped: expect.stringMatching(/^teacher: \d+ tokens > --max-length 30$/) });
    const [truncated] = scoreSamples([long], teacher, student, settings({ length: { maxLength: 30, onLong: 'truncate' } }), 1);
    expect('rows' in truncated && truncated.rows[0].text).toBe('Count.');
    const [cut] = scoreSamples([sample(1, 'word '.repeat(40), 'ok')], teacher, student, settings({ length: { maxLength: 30, onLong: 'truncate' } }), 1);
    expect(cut).toMatchObject({ skipped: expect.stringMatching(/an analysed region lies past the cut/) });
  });

  it('a response without boundaries is skipped at response level', () => {
    const side = oracleSide('student', qwen);
    const [outcome] = scoreSamples([sample(0, 'Q', 'one line')], oracleSide('teacher', qwen), side, settings({ level: 'response', method: getAttributionMethod('test-digit-oracle') }), 1);
    expect(outcome).toMatchObject({ skipped: expect.stringMatching(/no line or sentence boundaries/) });
  });

  it('occlusion scores every token of a word with the loss change of removing the word', () => {
    const teacher = modelSide('teacher', qwenA, qwen);
    const student = modelSide('student', llamaA, llama);
    const [outcome] = scoreSamples([sample(0, 'Add twelve and thirty', '42')], teacher, student, settings({ method: getAttributionMethod('occlusion') }), 1);
    if (!('rows' in outcome)) throw new Error(outcome.skipped);
    const [row] = outcome.rows;
    // "twelve" may be several tokens: they share one score.
    const inWord = row.tokens.map((_, i) => row.char_start[i] < 10 && row.char_end[i] > 4);
    const wordScores = row.student_score.filter((_, i) => inWord[i]);
    expect(new Set(wordScores).size).toBe(1);
    expect(wordScores[0]).toBeGreaterThan(0);
  });
});
