import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

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
