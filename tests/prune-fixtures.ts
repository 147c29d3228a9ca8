// Hand-made analysis outputs (attributions.arrow + manifest.json) for the prune tests: the spans
// are chosen here, so the tests know exactly what each counterfactual must look like.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createManifest, fileRef, writeManifest } from '../lib/corpus/manifest.ts';
import { writeRows, type AttributionRow } from '../lib/corpus/index.ts';
import type { RemovedSpan } from '../lib/pruning/index.ts';

/**
 * An attribution row over whitespace-delimited tokens: `flagged` lists substrings of `text`
 * (first occurrence at or after `from`) that become flagged spans, each with the Δ its tokens get;
 * other tokens get Δ 0.9.
 */
export function attributionRow(id: string, text: string, flagged: { text: string; delta?: number; from?: number }[], region = 'instruction'): AttributionRow {
  const tokens = [...text.matchAll(/\S+/g)].map((m) => ({ start: m.index, end: m.index + m[0].length }));
  const spans = flagged.map(({ text: piece, from = 0 }) => {
    const start = text.indexOf(piece, from);
    if (start < 0) throw new Error(`fixture: "${piece}" is not in "${text}"`);
    return { start, end: start + piece.length };
  });
  const delta = tokens.map((t) => {
    const k = spans.findIndex((s) => t.start < s.end && t.end > s.start);
    return k < 0 ? 0.9 : (flagged[k].delta ?? 0);
  });
  return {
    id,
    region,
    text,
    tokens: tokens.map((t) => text.slice(t.start, t.end)),
    char_start: tokens.map((t) => t.start),
    char_end: tokens.map((t) => t.end),
    teacher_score: tokens.map(() => 1),
    student_score: tokens.map(() => 1),
    teacher_norm: delta.map((d) => d),
    student_norm: tokens.map(() => 0),
    delta,
    flagged: delta.map((d) => d < 0.5),
    spans,
    teacher_loss: 1,
    student_loss: 2,
    threshold: 0.1,
  };
}

export function writeJsonl(path: string, rows: object[]): string {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, rows.map((row) => JSON.stringify(row)).join('\n') + '\n');
  return path;
}

/** An analysis directory as `leaf analyze` leaves it, for `dataPath` as it is now. */
export async function writeAnalysis(dir: string, dataPath: string, rows: AttributionRow[], options: Record<string, unknown> = {}): Promise<string> {
  mkdirSync(dir, { recursive: true });
  const attributions = join(dir, 'attributions.arrow');
  await writeRows(attributions, rows, 'attributions');
  writeManifest(
    join(dir, 'manifest.json'),
    createManifest({
      step: 'analyze',
      command: ['analyze'],
      models: {},
      data: await fileRef(dataPath),
      outputs: { attributions: { ...(await fileRef(attributions)), rows: rows.length } },
      options: { rule: 'percentile:p=0.1', level: 'instruction', ...options },
      counts: { done: rows.length, skipped: [] },
      timings: {},
    }),
  );
  return dir;
}

/** Test-side undo of a removal, by original coordinates (independent of lib/pruning). */
export function reinsert(pruned: string, removed: RemovedSpan[]): string {
  let out = pruned;
  for (const span of [...removed].sort((a, b) => a.start - b.start)) out = out.slice(0, span.start) + span.text + out.slice(span.start);
  return out;
}
