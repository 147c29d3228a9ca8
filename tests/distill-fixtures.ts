// Tiny teacher/student checkpoints and corpora for the distillation and evaluation tests.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeRandomCheckpoint } from '../lib/models/index.ts';
import { buildWordLevelTokenizer, writeTokenizerFiles, WORD_LEVEL_SPECIAL_TOKENS } from '../lib/text/index.ts';
import { Prng } from '../lib/distill/data/prng.ts';

export const WORDS = Array.from({ length: 40 }, (_, i) => 'bcdfghjklmnpqrst'[i % 16] + 'aeiou'[Math.floor(i / 16) + (i % 3)]).filter((w, i, all) => all.indexOf(w) === i);
export const VOCAB = WORD_LEVEL_SPECIAL_TOKENS.length + WORDS.length + 10;

export interface ModelShape {
  layers: number;
  hidden: number;
  heads: number;
  kvHeads: number;
  intermediate: number;
  vocab?: number;
}

/** A random llama checkpoint with the word-level tokenizer (words + digits) beside it. */
export function writeTinyModel(dir: string, shape: ModelShape, seed: number, initStd: number, words = WORDS): string {
  mkdirSync(dir, { recursive: true });
  const vocab = [...words, ...'0123456789'];
  writeTokenizerFiles(dir, buildWordLevelTokenizer(vocab));
  writeRandomCheckpoint(
    dir,
    {
      model_type: 'llama', vocab_size: shape.vocab ?? WORD_LEVEL_SPECIAL_TOKENS.length + vocab.length, hidden_size: shape.hidden,
      num_hidden_layers: shape.layers, num_attention_heads: shape.heads, num_key_value_heads: shape.kvHeads,
      intermediate_size: shape.intermediate, max_position_embeddings: 256, rms_norm_eps: 1e-5, tie_word_embeddings: false,
      bos_token_id: 2, eos_token_id: 3,
    },
    seed,
    { initStd },
  );
  return dir;
}

export const TEACHER_SHAPE: ModelShape = { layers: 2, hidden: 32, heads: 4, kvHeads: 2, intermediate: 64 };
export const STUDENT_SHAPE: ModelShape = { layers: 1, hidden: 32, heads: 4, kvHeads: 2, intermediate: 64 };

/** A peaked random teacher (large init) and a near-uniform student (small init). */
export function writeTinyPair(root: string): { teacher: string; student: string } {
  return {
    teacher: writeTinyModel(join(root, 'teacher'), TEACHER_SHAPE, 11, 0.5),
    student: writeTinyModel(join(root, 'student'), STUDENT_SHAPE, 12, 0.02),
  };
}

export interface CorpusRow {
  id: string;
  instruction: string;
  input: string;
  output: string;
  answer: string;
}

export function randomRows(count: number, seed: number, prefix = 'r'): CorpusRow[] {
  const prng = Prng.fromSeed(seed);
  const words = (n: number) => Array.from({ length: n }, () => WORDS[prng.nextInt(WORDS.length)]).join(' ');
  return Array.from({ length: count }, (_, i) => ({
    id: `${prefix}${i}`,
    instruction: words(4 + prng.nextInt(4)),
    input: '',
    output: words(3 + prng.nextInt(4)),
    answer: String(prng.nextInt(10)),
  }));
}

export function writeJsonl(path: string, rows: object[]): string {
  writeFileSync(path, rows.map((row) => JSON.stringify(row)).join('\n') + '\n');
  return path;
}
