import { quantile } from '../confounders/index.ts';
import type { FileRef, ModelRef } from '../corpus/manifest.ts';
import type { SampleStats } from './rows.ts';

export const SUMMARY_FORMAT = 'leaf-prune-summary/1';
export const SUMMARY_FILE = 'summary.json';

export interface VerificationSummary {
  checker: string;
  /** Counterfactuals answered by both models. */
  counterfactuals: number;
  teacher_correct: number;
  student_correct: number;
  /** Both right: the counterfactuals verification keeps. */
  passed: number;
  pass_rate: number | null;
  /** Originals answered (those of samples with counterfactuals). */
  originals: number;
  teacher_correct_original: number;
  student_correct_original: number;
  /** Counterfactuals whose original the student answers wrong: the flip rate's denominator. */
  flip_base: number;
  /** Of those, the student answers the counterfactual right. */
  flips: number;
  flip_rate: number | null;
  /** Samples whose original the student answers wrong, and those with at least one flipping counterfactual. */
  samples_student_wrong: number;
  samples_flipped: number;
}

export interface PruneSummary {
  format: typeof SUMMARY_FORMAT;
  created: string;
  command: string[];
  inputs: { attributions: FileRef; data: FileRef; manifest: string };
  /** Of a --verify run: hash of its inputs, models and settings, which a --resume of the finished run must match. */
  fingerprint: string | null;
  models: { teacher: ModelRef; student: ModelRef } | null;
  output: { path: string; format: string; arrow_format: string | null; rows: number };
  settings: {
    mode: string;
    level: string;
    rules: { instruction: string; response: string };
    lambda: number;
    max_per_sample: number | null;
    min_span_chars: number;
    originals: string;
    verify: boolean;
    checker: string | null;
    keep_unverified: boolean;
    max_new_tokens: number | null;
  };
  /** Samples in the corpus as read. */
  samples: number;
  samples_analysed: number;
  samples_with_counterfactuals: number;
  /** Flagged spans in the attributions. */
  spans: number;
  spans_too_short: number;
  /** Counterfactual candidates left out by --max-per-sample, and because they would empty a field. */
  candidates_capped: number;
  candidates_emptied: number;
  counterfactuals_built: number;
  counterfactuals_written: number;
  originals_written: number;
  rows: number;
  /** Characters (UTF-16 code units) removed per written counterfactual; null when none was written. */
  removed_chars: { mean: number; p50: number; p95: number } | null;
  verification: VerificationSummary | null;
  timings: Record<string, number>;
}

export type SummaryContext = Pick<PruneSummary, 'created' | 'command' | 'inputs' | 'fingerprint' | 'models' | 'output' | 'settings' | 'timings'>;

const sum = (values: number[]) => values.reduce((total, value) => total + value, 0);
const ratio = (part: number, whole: number) => (whole > 0 ? part / whole : null);

function verificationSummary(stats: SampleStats[], checker: string): VerificationSummary {
  const v = { checker, counterfactuals: 0, teacher_correct: 0, student_correct: 0, passed: 0, originals: 0, teacher_correct_original: 0, student_correct_original: 0, flip_base: 0, flips: 0, samples_student_wrong: 0, samples_flipped: 0 };
  for (const { verification } of stats) {
    if (!verification) continue;
    const { teacher, student, teacherOriginal, studentOriginal } = verification;
    v.originals++;
    v.teacher_correct_original += Number(teacherOriginal);
    v.student_correct_original += Number(studentOriginal);
    v.counterfactuals += teacher.length;
    v.teacher_correct += teacher.filter(Boolean).length;
    v.student_correct += student.filter(Boolean).length;
    v.passed += teacher.filter((right, k) => right && student[k]).length;
    if (!studentOriginal) {
      const flips = student.filter(Boolean).length;
      v.samples_student_wrong++;
      v.flip_base += student.length;
      v.flips += flips;
      v.samples_flipped += Number(flips > 0);
    }
  }
  return { ...v, pass_rate: ratio(v.passed, v.counterfactuals), flip_rate: ratio(v.flips, v.flip_base) };
}

/** The run's summary from the per-sample stats of every sample of the corpus. */
export function summarize(stats: SampleStats[], context: SummaryContext): PruneSummary {
  const removed = stats.flatMap((s) => s.removedChars);
  const written = sum(stats.map((s) => s.written));
  const { timings, ...provenance } = context;
  return {
    format: SUMMARY_FORMAT,
    ...provenance,
    samples: stats.length,
    samples_analysed: stats.filter((s) => s.analysed).length,
    samples_with_counterfactuals: stats.filter((s) => s.written > 0).length,
    spans: sum(stats.map((s) => s.spans)),
    spans_too_short: sum(stats.map((s) => s.shortSpans)),
    candidates_capped: sum(stats.map((s) => s.capped)),
    candidates_emptied: sum(stats.map((s) => s.emptied)),
    counterfactuals_built: sum(stats.map((s) => s.candidates)),
    counterfactuals_written: written,
    originals_written: context.output.rows - written,
    rows: context.output.rows,
    removed_chars: removed.length > 0 ? { mean: sum(removed) / removed.length, p50: quantile(removed, 0.5), p95: quantile(removed, 0.95) } : null,
    verification: context.settings.verify ? verificationSummary(stats, context.settings.checker!) : null,
    timings,
  };
}

const percent = (value: number | null) => (value === null ? 'n/a' : `${(100 * value).toFixed(1)} %`);
const round = (value: number) => String(Math.round(value * 10) / 10);

/** The short table `leaf prune` prints. */
export function summaryTable(summary: PruneSummary, summaryPath: string): string {
  const lines: [string, string][] = [
    ['samples', `${summary.samples} (analysed ${summary.samples_analysed}, with counterfactuals ${summary.samples_with_counterfactuals})`],
    ['spans', `${summary.spans} flagged (${summary.spans_too_short} shorter than --min-span-chars)`],
    [
      'counterfactuals',
      `${summary.counterfactuals_written} written of ${summary.counterfactuals_built} built (${summary.settings.mode} mode; ${summary.candidates_capped} over --max-per-sample, ${summary.candidates_emptied} would empty a field)`,
    ],
    ['chars removed', summary.removed_chars ? `mean ${round(summary.removed_chars.mean)}, p50 ${round(summary.removed_chars.p50)}, p95 ${round(summary.removed_chars.p95)}` : 'n/a'],
  ];
  const v = summary.verification;
  if (v)
    lines.push(
      ['verification', `${v.passed}/${v.counterfactuals} pass (${percent(v.pass_rate)}): teacher right ${v.teacher_correct}, student right ${v.student_correct}`],
      ['flip rate', `${v.flips}/${v.flip_base} (${percent(v.flip_rate)}) of counterfactuals whose original the student gets wrong; ${v.samples_flipped}/${v.samples_student_wrong} samples`],
    );
  lines.push(['rows', `${summary.rows} (${summary.originals_written} originals) -> ${summary.output.path} (${summary.output.format}${summary.output.arrow_format ? ` ${summary.output.arrow_format}` : ''})`], ['summary', summaryPath]);
  const width = Math.max(...lines.map(([label]) => label.length));
  return lines.map(([label, value]) => `  ${label.padEnd(width)}  ${value}`).join('\n') + '\n';
}
