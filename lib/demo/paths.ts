import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SynthSample } from '../synth/index.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/**
 * What the repository ships for the demo (made by analyses/train-base.ts): the two base models and
 * the planted-confounder splits, so `leaf demo` trains nothing before it starts.
 */
export const SHIPPED = {
  teacher: join(ROOT, 'data', 'models', 'teacher'),
  student: join(ROOT, 'data', 'models', 'student'),
  /** Holds train-distill.jsonl, test.jsonl, clean.jsonl and manifest.json (lib/synth's layout). */
  corpus: join(ROOT, 'data', 'synth'),
} as const;

/** A task family's base models and splits: the shipped ones, or data/families/<name>/ (same layout, made by analyses/train-base.ts --family NAME). */
export function familyData(family: string): { teacher: string; student: string; corpus: string } {
  if (family === 'shipped') return SHIPPED;
  const root = join(ROOT, 'data', 'families', family);
  return { teacher: join(root, 'models', 'teacher'), student: join(root, 'models', 'student'), corpus: join(root, 'synth') };
}

/** One split of a lib/synth corpus (`<corpus>/<split>.jsonl`), with the file and line named on bad input. */
export function readSynthSplit(corpus: string, split: string): SynthSample[] {
  const path = join(corpus, `${split}.jsonl`);
  if (!existsSync(path)) throw new Error(`${path}: no such file (the shipped corpora are made by analyses/train-base.ts)`);
  return readFileSync(path, 'utf8')
    .split('\n')
    .flatMap((line, i) => {
      if (!line.trim()) return [];
      try {
        return [JSON.parse(line) as SynthSample];
      } catch (error) {
        throw new Error(`${path}:${i + 1}: not valid JSON (${(error as Error).message})`);
      }
    });
}
