import type { AttributionRow } from '../corpus/types.ts';
import { mulberry32 } from '../util/random.ts';

/**
 * Synthetic attribution rows with the statistics of a real analyze run (word-piece tokens with
 * leading spaces, min-max normalised scores, percentile-flagged spans), for the report benchmark
 * and for looking at the page without running a model. Seeded: the same options give the same rows.
 */
export interface SyntheticOptions {
  samples: number;
  seed?: number;
  /** Mean tokens per region; lengths vary uniformly over ±60 %. */
  meanTokens?: number;
  /** Share of tokens flagged per row (percentile rule). */
  flagShare?: number;
}

const WORDS = (
  'the a of to and in is that for it as with was on be by at this from or an are which have has had not but ' +
  'how many apples does Tom buy if each costs dollars cents total price store sells boxes there were left after ' +
  'Mary gave her brother half what remains compute answer step first then finally number sum difference product ' +
  'train leaves station speed hours miles minutes per hour rectangle width length area perimeter triangle angle'
).split(' ');
const PUNCTUATION = ['.', ',', '?', ':', ' 12', ' 7', ' 3.5', ' $4', '\n'];


function minMax(values: number[]): number[] {
  const lo = Math.min(...values);
  const hi = Math.max(...values);
  return values.map((v) => (hi > lo ? (v - lo) / (hi - lo) : 0));
}

export function syntheticAttributions({ samples, seed = 1, meanTokens = 64, flagShare = 0.08 }: SyntheticOptions): AttributionRow[] {
  const random = mulberry32(seed);
  const rows: AttributionRow[] = [];
  for (let r = 0; r < samples; r++) {
    const count = Math.max(4, Math.round(meanTokens * (0.4 + 1.2 * random())));
    const tokens: string[] = [];
    const charStart: number[] = [];
    const charEnd: number[] = [];
    let text = '';
    for (let i = 0; i < count; i++) {
      const piece = random() < 0.12 ? PUNCTUATION[Math.floor(random() * PUNCTUATION.length)] : `${i === 0 ? '' : ' '}${WORDS[Math.floor(random() * WORDS.length)]}`;
      charStart.push(text.length);
      text += piece;
      charEnd.push(text.length);
      tokens.push(piece);
    }
    const teacherRaw = tokens.map(() => 0.002 + 0.05 * random() ** 2);
    const studentRaw = tokens.map(() => 0.004 + 0.08 * random() ** 2);
    const teacherNorm = minMax(teacherRaw);
    const studentNorm = minMax(studentRaw);
    const delta = teacherNorm.map((t, i) => t - studentNorm[i]);
    const sorted = delta.filter((_, i) => tokens[i].trim()).sort((a, b) => a - b);
    const threshold = Math.min(0.5, sorted[Math.max(0, Math.ceil(flagShare * sorted.length) - 1)] ?? 0);
    const flagged = delta.map((d, i) => d <= threshold && tokens[i].trim().length > 0);
    const spans: { start: number; end: number }[] = [];
    for (let i = 0; i < count; i++) {
      if (!flagged[i]) continue;
      if (i > 0 && flagged[i - 1]) spans[spans.length - 1].end = charEnd[i];
      else spans.push({ start: charStart[i], end: charEnd[i] });
    }
    rows.push({
      id: `sample-${String(r).padStart(6, '0')}`,
      region: 'instruction',
      text,
      tokens,
      char_start: charStart,
      char_end: charEnd,
      teacher_score: teacherRaw,
      student_score: studentRaw,
      teacher_norm: teacherNorm,
      student_norm: studentNorm,
      delta,
      flagged,
      spans,
      teacher_loss: 0.3 + random(),
      student_loss: 0.8 + 1.5 * random(),
      threshold,
    });
  }
  return rows;
}
