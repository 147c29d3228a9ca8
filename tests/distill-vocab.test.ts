import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { initRuntime } from '../lib/runtime/index.ts';
import { readConfig, writeRandomCheckpoint } from '../lib/models/index.ts';
import { loadTokenizer } from '../lib/text/index.ts';
import type { TextTokenizer } from '../lib/text/types.ts';
import { buildVocabMap, distill, readMetrics, type TrainMetrics, type TrainingRow } from '../lib/distill/index.ts';
import { encodeRows } from '../lib/distill/data/encode.ts';
import { writeLlama3Tokenizer, writeQwenTokenizer } from './helpers/tokenizers.ts';
import { writeJsonl } from './distill-fixtures.ts';

// Real tokenizers: a Qwen-style teacher and a LLaMA-3-style student (different vocabularies, ids and templates).
const root = mkdtempSync(join(tmpdir(), 'leaf-distill-vocab-'));
let teacher: string;
let student: string;
let sides: { teacher: { label: string; config: ReturnType<typeof readConfig>['config']; tokenizer: TextTokenizer }; student: { label: string; config: ReturnType<typeof readConfig>['config']; tokenizer: TextTokenizer } };

const row = (id: string, instruction: string, output: string): TrainingRow => ({ id, sourceId: id, kind: 'original', instruction, input: '', output, answer: '', weight: 1, origin: `digits.jsonl row ${id}` });

const small = { hidden_size: 16, num_hidden_layers: 1, num_attention_heads: 2, num_key_value_heads: 1, intermediate_size: 32, max_position_embeddings: 128, tie_word_embeddings: true };

beforeAll(async () => {
  await initRuntime({ backend: 'cpu', quiet: true });
  teacher = writeQwenTokenizer(join(root, 'teacher'));
  writeRandomCheckpoint(teacher, { model_type: 'qwen2', vocab_size: 151680, ...small }, 1, { initStd: 0.5 });
  student = writeLlama3Tokenizer(join(root, 'student'));
  writeRandomCheckpoint(student, { model_type: 'llama', vocab_size: 128256, ...small }, 2);
  const side = async (dir: string) => ({ label: dir, config: readConfig(dir).config, tokenizer: await loadTokenizer(dir) });
  sides = { teacher: await side(teacher), student: await side(student) };
});

describe('teacher and student with different tokenizers', () => {
  it('is an error without --vocab-map intersect', () => {
    expect(() => buildVocabMap(sides.student, sides.teacher, 'strict')).toThrow(/vocabulary mismatch: teacher .* has 151680 logits, student .* has 128256; pass --vocab-map intersect/);
  });

  it('distils over the shared token strings with --vocab-map intersect', async () => {
    const data = writeJsonl(join(root, 'plain.jsonl'), [
      { instruction: 'Say hello.', output: 'Hello world' },
      { instruction: 'Name a colour.', output: 'The sky is blue.' },
    ]);
    const out = join(root, 'intersect');
    await distill({ teacher, student, data, out, maxSteps: 2, batchSize: 2, lr: 1e-3, vocabMap: 'intersect', progress: false, backend: 'cpu' });
    const lines = readMetrics(join(out, 'metrics.jsonl')) as TrainMetrics[];
    expect(lines).toHaveLength(2);
    for (const line of lines) expect(line.loss).toBeGreaterThan(0);
  });

  it('names the sample whose response the tokenizers split differently (Qwen splits digits, LLaMA-3 groups them)', () => {
    const vocab = buildVocabMap(sides.student, sides.teacher, 'intersect');
    expect(vocab.shared).toBeGreaterThan(50_000);
    const tokenizers = { student: sides.student.tokenizer, teacher: sides.teacher.tokenizer };
    const plain = encodeRows([row('0', 'Say hello.', 'Hello world')], tokenizers, vocab, 4096);
    expect(plain.rows[0].student.targets).toHaveLength(2);
    // <|eot_id|> and <|im_end|> are different strings: the closing tokens are left unsupervised.
    expect(plain.closingTokensDiffer).toBe(1);
    expect(() => encodeRows([row('0', 'Say hello.', 'Hello world'), row('1', 'What is 6 times 7?', 'The answer is 42.')], tokenizers, vocab, 4096)).toThrow(
      /digits.jsonl row 1 \(id 1\): teacher and student tokenise the response differently .*student "42", teacher "4"/,
    );
  });
});
