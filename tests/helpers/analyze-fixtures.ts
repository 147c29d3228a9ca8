/**
 * Small analyze fixtures: two random-weight checkpoints (HF layout) sharing a word-level tokenizer,
 * and corpora in JSONL.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeRandomCheckpoint } from '../../lib/models/index.ts';
import { buildWordLevelTokenizer, writeTokenizerFiles } from '../../lib/text/index.ts';
import type { AnalyzeOptions } from '../../lib/analyze/index.ts';
import { analyzeDefaults } from '../../lib/analyze/index.ts';

export const WORDS = ['tom', 'has', 'red', 'green', 'apples', 'pears', 'and', 'gives', 'two', 'to', 'ann', 'how', 'many', 'does', 'have', 'now', 'note', 'that', 'the', 'sky', 'is', 'blue', 'so', 'answer', 'he', 'she', 'left', '.', '?', ','];

export interface AnalyzeFixture {
  root: string;
  teacher: string;
  student: string;
}

export function writeAnalyzeFixture(): AnalyzeFixture {
  const root = mkdtempSync(join(tmpdir(), 'leaf-analyze-'));
  const files = buildWordLevelTokenizer(WORDS, { lowercase: true });
  const vocabSize = Object.keys((files.tokenizerJson.model as { vocab: Record<string, number> }).vocab).length;
  const dirs = { teacher: join(root, 'teacher'), student: join(root, 'student') };
  const base = { vocab_size: vocabSize, hidden_size: 16, intermediate_size: 32, num_hidden_layers: 1, num_attention_heads: 2, num_key_value_heads: 1, max_position_embeddings: 256, rms_norm_eps: 1e-5, tie_word_embeddings: true, bos_token_id: 2, eos_token_id: 3 };
  writeRandomCheckpoint(dirs.teacher, { model_type: 'llama', ...base }, 11, { initStd: 0.5 });
  writeRandomCheckpoint(dirs.student, { model_type: 'qwen2', ...base, num_hidden_layers: 2 }, 12, { initStd: 0.5 });
  writeTokenizerFiles(dirs.teacher, files);
  writeTokenizerFiles(dirs.student, files);
  return { root, ...dirs };
}

/** n samples of a few sentences built from WORDS, deterministic. */
export function corpusLines(n: number): string[] {
  return Array.from({ length: n }, (_, i) => {
    const pick = (k: number) => WORDS[(i * 7 + k * 13) % 26];
    const instruction = `${pick(0)} has ${1 + (i % 9)} ${pick(1)} and ${pick(2)} . note that the sky is blue . how many ${pick(3)} ?`;
    const output = `${pick(4)} ${pick(5)} two .\nso the answer is ${i % 10} .`;
    return JSON.stringify({ id: `q${i}`, instruction, output, answer: String(i % 10) });
  });
}

export function writeCorpus(root: string, name: string, lines: string[]): string {
  const path = join(root, name);
  writeFileSync(path, lines.join('\n') + '\n');
  return path;
}

export function analyzeOptions(fixture: AnalyzeFixture, data: string, out: string, over: Partial<AnalyzeOptions> = {}): AnalyzeOptions {
  return {
    ...analyzeDefaults,
    // Run mechanics (resume, shards, bad input) do not depend on the method: the one-pass paper method keeps them fast.
    method: 'grad-l2',
    teacher: fixture.teacher,
    student: fixture.student,
    data,
    out,
    idField: 'id',
    batchSize: 4,
    backend: 'cpu',
    progress: false,
    ...over,
  };
}
