import { narrowInts, type Column } from './container.ts';
import { counterfactualsByRow, pruneStats } from './pruning.ts';
import { dequantizeUnit, encodeRow, QUANT_ERROR, QUANT_MAX, quantizeUnit, type RowEncoding } from './quantize.ts';
import { bucketMeans, MAX_CURVE_POINTS } from './runs.ts';
import { corpusStats, tokenText } from './stats.ts';
import type { AnalyzeManifestLike, DistillRun, ReportInput } from './types.ts';
import { validateAttributionRow } from './validate.ts';

/** Bumped whenever the header or column layout changes; the page refuses payloads it does not know. */
export const PAYLOAD_VERSION = 1;

/** Bits of the per-row `rowMode` column: which derived columns are stored per token for that row. */
export const EXPLICIT = { teacherRaw: 1, studentRaw: 2, delta: 4 } as const;

/** Skip reasons keep this many example ids each. */
const SKIP_EXAMPLES = 5;
/** Manifest values longer than this are cut in the page's "run details". */
const MAX_DETAIL_CHARS = 400;

/** Round for the JSON header: 6 significant digits are more than any chart or table shows. */
function round(value: number | null | undefined): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? Number(value.toPrecision(6)) : null;
}

export interface Payload {
  header: Record<string, unknown>;
  columns: Record<string, Column>;
}

export function buildPayload(input: ReportInput): Payload {
  const rows = input.attributions;
  rows.forEach((row, i) => validateAttributionRow(row, i));
  const n = rows.length;
  const tokenTotal = rows.reduce((sum, row) => sum + row.tokens.length, 0);

  const tokenOffset = new Uint32Array(n + 1);
  const spanOffset = new Uint32Array(n + 1);
  const spanStart: number[] = [];
  const spanEnd: number[] = [];
  const charGap = new Int32Array(tokenTotal);
  const charLen = new Uint32Array(tokenTotal);
  const teacherNorm = new Uint16Array(tokenTotal);
  const studentNorm = new Uint16Array(tokenTotal);
  // Per-token values only for the rows whose bit is set in rowMode, concatenated in row order.
  const explicitValues: Record<keyof typeof EXPLICIT, number[]> = { teacherRaw: [], studentRaw: [], delta: [] };
  const flagged = new Uint8Array(tokenTotal);
  const rowMode = new Uint8Array(n);
  const affine = new Float32Array(n * 6);
  const teacherLoss = new Float32Array(n);
  const studentLoss = new Float32Array(n);
  const threshold = new Float32Array(n);
  const overrideIndex: number[] = [];
  const overrideText: string[] = [];

  let t = 0;
  rows.forEach((row, r) => {
    tokenOffset[r] = t;
    spanOffset[r] = spanStart.length;
    const m = row.tokens.length;
    const tn = new Float64Array(m);
    const sn = new Float64Array(m);
    const diff = new Float64Array(m);
    // Tokens usually abut, so the gap to the previous token's end is mostly 0 (negative for overlaps).
    let previousEnd = 0;
    for (let i = 0; i < m; i++) {
      charGap[t + i] = row.char_start[i] - previousEnd;
      previousEnd = row.char_end[i];
      charLen[t + i] = row.char_end[i] - row.char_start[i];
      teacherNorm[t + i] = quantizeUnit(row.teacher_norm[i]);
      studentNorm[t + i] = quantizeUnit(row.student_norm[i]);
      tn[i] = dequantizeUnit(teacherNorm[t + i]);
      sn[i] = dequantizeUnit(studentNorm[t + i]);
      diff[i] = tn[i] - sn[i];
      flagged[t + i] = row.flagged[i] ? 1 : 0;
      // The page shows a token's slice of the text; the decoded token is stored only where it differs.
      if (tokenText(row, i) !== row.tokens[i]) {
        overrideIndex.push(t + i);
        overrideText.push(row.tokens[i]);
      }
    }
    const store = (encoding: RowEncoding, column: keyof typeof EXPLICIT, slot: number) => {
      affine[r * 6 + slot] = encoding.a;
      affine[r * 6 + slot + 1] = encoding.b;
      if (!encoding.derived) {
        rowMode[r] |= EXPLICIT[column];
        for (const q of encoding.q!) explicitValues[column].push(q);
      }
    };
    store(encodeRow(row.teacher_score, tn, QUANT_ERROR), 'teacherRaw', 0);
    store(encodeRow(row.student_score, sn, QUANT_ERROR), 'studentRaw', 2);
    store(encodeRow(row.delta, diff, 2 * QUANT_ERROR), 'delta', 4);
    for (const span of row.spans) {
      spanStart.push(span.start);
      spanEnd.push(span.end);
    }
    teacherLoss[r] = row.teacher_loss;
    studentLoss[r] = row.student_loss;
    threshold[r] = row.threshold;
    t += m;
  });
  tokenOffset[n] = t;
  spanOffset[n] = spanStart.length;

  const stats = corpusStats(rows);
  const terms = [...stats.topTokens, ...stats.topNgrams];
  const termRows = new Uint32Array(terms.reduce((sum, term) => sum + term.rows.length, 0));
  let termOffset = 0;
  const termHeader = (term: (typeof terms)[number]) => {
    termRows.set(term.rows, termOffset);
    const entry = { text: term.text, n: term.n, count: term.count, rows: term.rows.length, offset: termOffset };
    termOffset += term.rows.length;
    return entry;
  };
  const { topTokens, topNgrams, ...corpus } = stats;

  const header = {
    version: PAYLOAD_VERSION,
    title: input.title ?? 'attribution report',
    generatedAt: input.generatedAt ?? null,
    encoding: { quantMax: QUANT_MAX, explicit: EXPLICIT },
    samples: {
      count: n,
      id: rows.map((row) => row.id),
      region: rows.map((row) => row.region),
      text: rows.map((row) => row.text),
    },
    tokenOverrideText: overrideText,
    corpus: { ...corpus, topTokens: topTokens.map(termHeader), topNgrams: topNgrams.map(termHeader) },
    manifest: input.manifest ? summarizeManifest(input.manifest) : null,
    prune: input.pruned ? pruneStats(input.pruned, input.pruneSummary) : null,
    counterfactuals: input.pruned ? [...counterfactualsByRow(rows, input.pruned)] : [],
    runs: (input.runs ?? []).map(summarizeRun),
  };
  return {
    header,
    columns: {
      tokenOffset,
      spanOffset,
      spanStart: narrowInts(spanStart),
      spanEnd: narrowInts(spanEnd),
      charGap: narrowInts(charGap),
      charLen: narrowInts(charLen),
      teacherNorm,
      studentNorm,
      teacherRaw: Uint16Array.from(explicitValues.teacherRaw),
      studentRaw: Uint16Array.from(explicitValues.studentRaw),
      delta: Uint16Array.from(explicitValues.delta),
      flagged,
      rowMode,
      affine,
      teacherLoss,
      studentLoss,
      threshold,
      tokenOverrideIndex: new Uint32Array(overrideIndex),
      termRows: narrowInts(termRows),
    },
  };
}

/** Counts, skip reasons (grouped) and every other manifest field flattened to "a.b.c" = value. */
function summarizeManifest(manifest: AnalyzeManifestLike) {
  const counts = Object.entries(manifest.counts ?? {}).flatMap(([key, value]) =>
    typeof value === 'number' || typeof value === 'string' ? [[key, value]] : Array.isArray(value) ? [[key, value.length]] : [],
  );
  const skipped = Array.isArray(manifest.counts?.skipped) ? manifest.counts.skipped : [];
  const reasons = new Map<string, { reason: string; count: number; examples: string[] }>();
  for (const skip of skipped) {
    const reason = typeof skip?.reason === 'string' ? skip.reason : 'unknown';
    let entry = reasons.get(reason);
    if (!entry) reasons.set(reason, (entry = { reason, count: 0, examples: [] }));
    entry.count++;
    const label = skip?.id ?? (skip?.index !== undefined ? `#${skip.index}` : undefined);
    if (label !== undefined && entry.examples.length < SKIP_EXAMPLES) entry.examples.push(String(label));
  }
  const details: [string, string][] = [];
  const flatten = (value: unknown, path: string) => {
    if (value === null || typeof value !== 'object') {
      const text = String(value);
      details.push([path, text.length > MAX_DETAIL_CHARS ? `${text.slice(0, MAX_DETAIL_CHARS)}…` : text]);
    } else if (Array.isArray(value) && value.every((item) => item === null || typeof item !== 'object')) {
      flatten(value.join(' '), path);
    } else {
      for (const [key, item] of Object.entries(value)) flatten(item, path ? `${path}.${key}` : key);
    }
  };
  const { counts: _counts, ...rest } = manifest;
  flatten(rest, '');
  return { counts, skipReasons: [...reasons.values()].sort((a, b) => b.count - a.count), details };
}

/** A run's curves as columns, averaged into at most MAX_CURVE_POINTS buckets. */
function summarizeRun(run: DistillRun) {
  const bucket = Math.max(1, Math.ceil(run.train.length / MAX_CURVE_POINTS));
  const series = (values: (number | undefined)[]) => bucketMeans(values, bucket).map(round);
  const termNames = [...new Set(run.train.flatMap((point) => Object.keys(point.loss_terms ?? {})))];
  return {
    name: run.name,
    bucket,
    train: {
      step: run.train.filter((_, i) => i % bucket === 0).map((point) => point.step),
      loss: series(run.train.map((point) => point.loss)),
      lr: series(run.train.map((point) => point.lr)),
      grad_norm: series(run.train.map((point) => point.grad_norm)),
      tokens_per_s: series(run.train.map((point) => point.tokens_per_s)),
      terms: Object.fromEntries(termNames.map((name) => [name, series(run.train.map((point) => point.loss_terms?.[name]))])),
    },
    validation: {
      step: run.validation.map((point) => point.step),
      val_loss: run.validation.map((point) => round(point.val_loss)),
      val_accuracy: run.validation.map((point) => round(point.val_accuracy)),
    },
    evals: run.evals.map((result) => ({
      ...result,
      accuracy: round(result.accuracy),
      attention_mass: round(result.attention_mass),
      flagged_token_fraction: round(result.flagged_token_fraction),
    })),
  };
}
