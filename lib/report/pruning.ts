import type { AttributionRow } from '../corpus/types.ts';
import type { ReportPrunedRow } from './types.ts';
import { userMessage } from '../corpus/prompt.ts';
import { reinsertSpans } from '../pruning/removal.ts';

/** One counterfactual as the page draws it: the source text with the removed spans struck through. */
export interface CounterfactualView {
  id: string;
  /** The source field's text; null when it equals the attribution row's text (not stored twice). */
  text: string | null;
  /** Removed character spans in `text`, ascending. */
  spans: [number, number][];
  removedChars: number;
  verified: boolean | null;
  mode: string;
  answer: string;
  teacherAnswer?: string;
  studentAnswer?: string;
}

export interface PruneStats {
  originals: number;
  counterfactuals: number;
  /** Source samples with at least one counterfactual. */
  sources: number;
  removedChars: { mean: number; p50: number; p95: number } | null;
  verified: number;
  passed: number;
  passRate: number | null;
  flipRate: number | null;
  modes: string[];
}

/** Nearest-rank percentile of an ascending array. */
function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))];
}

/** First numeric `flip_rate` anywhere in the prune summary (its nesting is the prune stage's business). */
function findNumber(value: unknown, key: string): number | null {
  if (!value || typeof value !== 'object') return null;
  for (const [k, v] of Object.entries(value)) {
    if (k === key && typeof v === 'number' && Number.isFinite(v)) return v;
    const nested = findNumber(v, key);
    if (nested !== null) return nested;
  }
  return null;
}

export function pruneStats(pruned: ReportPrunedRow[], summary?: Record<string, unknown>): PruneStats {
  const counterfactuals = pruned.filter((row) => row.kind === 'counterfactual');
  const removed = counterfactuals.map((row) => row.removed_chars).sort((a, b) => a - b);
  const verified = counterfactuals.filter((row) => row.verified !== null && row.verified !== undefined);
  const passed = verified.filter((row) => row.verified === true).length;
  return {
    originals: pruned.length - counterfactuals.length,
    counterfactuals: counterfactuals.length,
    sources: new Set(counterfactuals.map((row) => row.source_id)).size,
    removedChars: removed.length
      ? { mean: removed.reduce((a, b) => a + b, 0) / removed.length, p50: percentile(removed, 0.5), p95: percentile(removed, 0.95) }
      : null,
    verified: verified.length,
    passed,
    passRate: verified.length ? passed / verified.length : null,
    flipRate: findNumber(summary, 'flip_rate'),
    modes: [...new Set(counterfactuals.map((row) => row.mode))].sort(),
  };
}

/** The text the removed spans index into: the user message at instruction level (as prune writes them). */
function sourceField(row: ReportPrunedRow): string {
  return row.level === 'response' ? row.output : userMessage(row);
}

/** Whether an attribution row is the region a counterfactual of this level was cut from. */
function matchesLevel(row: AttributionRow, level: string): boolean {
  return level === 'response' ? row.region.startsWith('response') : row.region === 'instruction';
}

export function counterfactualsByRow(rows: AttributionRow[], pruned: ReportPrunedRow[]): Map<number, CounterfactualView[]> {
  const rowsById = new Map<string, number[]>();
  rows.forEach((row, r) => {
    const list = rowsById.get(row.id) ?? [];
    list.push(r);
    rowsById.set(row.id, list);
  });
  const originals = new Map<string, ReportPrunedRow>();
  for (const row of pruned) if (row.kind === 'original') originals.set(row.source_id, row);

  const byRow = new Map<number, CounterfactualView[]>();
  for (const cf of pruned) {
    if (cf.kind !== 'counterfactual') continue;
    const candidates = rowsById.get(cf.source_id);
    if (!candidates) continue;
    const r = candidates.find((c) => matchesLevel(rows[c], cf.level)) ?? candidates[0];
    const original = originals.get(cf.source_id);
    const text = original ? sourceField(original) : reinsertSpans(sourceField(cf), cf.removed_spans);
    for (const span of cf.removed_spans)
      if (!(span.start >= 0 && span.end >= span.start && span.end <= text.length))
        throw new Error(`pruned row id ${JSON.stringify(cf.id)}: removed span [${span.start}, ${span.end}) lies outside its source text (length ${text.length})`);
    const view: CounterfactualView = {
      id: cf.id,
      text: text === rows[r].text ? null : text,
      spans: cf.removed_spans.map((span) => [span.start, span.end] as [number, number]).sort((a, b) => a[0] - b[0]),
      removedChars: cf.removed_chars,
      verified: cf.verified ?? null,
      mode: cf.mode,
      answer: cf.answer,
    };
    const teacherAnswer = cf.teacher_answer ?? cf.extra?.teacher_answer;
    const studentAnswer = cf.student_answer ?? cf.extra?.student_answer;
    if (typeof teacherAnswer === 'string') view.teacherAnswer = teacherAnswer;
    if (typeof studentAnswer === 'string') view.studentAnswer = studentAnswer;
    const list = byRow.get(r) ?? [];
    list.push(view);
    byRow.set(r, list);
  }
  return byRow;
}
