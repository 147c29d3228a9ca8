import type { DemoResult, ModelName } from './run.ts';

const LABELS: Record<ModelName, string> = {
  student: 'student (before)',
  kd: 'KD student',
  leaf: 'LeaF student',
  teacher: 'teacher',
};

const pct = (value: number | null | undefined) => (value === null || value === undefined ? 'n/a' : `${(100 * value).toFixed(1)} %`);
const num = (value: number | null | undefined, digits = 3) => (value === null || value === undefined ? 'n/a' : value.toFixed(digits));

function rows(result: DemoResult): string[][] {
  const header = ['model', 'test acc (shortcut broken)', 'copies distractor', 'clean acc (control)', 'attention on distractor', 'attention on flagged'];
  return [
    header,
    ...result.models.map((m) => [
      LABELS[m.name],
      pct(m.test.accuracy),
      pct(m.test.copiesDistractor),
      pct(m.clean.accuracy),
      pct(m.plantedAttention.ratio),
      pct(m.flaggedAttention),
    ]),
  ];
}

function detectionLine(result: DemoResult): string {
  const d = result.detection;
  return (
    `detection (${result.settings.method}, ${result.settings.rule}) on ${d.samples} analysed samples with a distractor: ` +
    `token AUROC ${num(d.tokenAuroc)}, precision ${pct(d.precision)}, recall ${pct(d.recall)}, ` +
    `top span on the distractor ${pct(d.topSpanOnDistractor)} (of ${d.samplesWithSpans})`
  );
}

function pruneLine(result: DemoResult): string {
  const p = result.prune;
  const trainsOn = result.settings.verifiedOnly ? 'LeaF trains on the verified ones' : 'LeaF trains on all of them (--verified-only: only the verified)';
  return (
    `prune (span, verified): ${p.spans} spans → ${p.counterfactuals_written} counterfactuals, ${p.verified ?? 'n/a'} pass verification ` +
    `(both models right; flip rate ${pct(p.flip_rate)}); ${trainsOn}`
  );
}

/** Aligned plain-text table for the terminal. */
export function resultsTable(result: DemoResult): string {
  const table = rows(result);
  const widths = table[0].map((_, c) => Math.max(...table.map((row) => row[c].length)));
  const line = (row: string[]) => row.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  ');
  return [
    detectionLine(result),
    pruneLine(result),
    '',
    line(table[0]),
    widths.map((w) => '-'.repeat(w)).join('  '),
    ...table.slice(1).map(line),
    '',
    `attention on distractor: share of the instruction's attention (response positions, mean over layers and heads) on the planted distractor, test split`,
    `time: ${Object.entries(result.timings).map(([stage, s]) => `${stage} ${s.toFixed(1)} s`).join(', ')}; ${result.cpuSeconds.toFixed(0)} CPU s`,
  ].join('\n');
}

/** The same results as Markdown (out/results.md). */
export function resultsMarkdown(result: DemoResult): string {
  const table = rows(result);
  return [
    '# leaf demo results',
    '',
    `- ${detectionLine(result)}`,
    `- ${pruneLine(result)}`,
    `- distillation: ${result.settings.steps} steps of ${result.settings.batchSize} rows, lr ${result.settings.lr}, seed ${result.settings.seed} (KD: originals only; LeaF: originals + counterfactuals)`,
    '',
    `| ${table[0].join(' | ')} |`,
    `|${table[0].map(() => '---').join('|')}|`,
    ...table.slice(1).map((row) => `| ${row.join(' | ')} |`),
    '',
    `Timings: ${Object.entries(result.timings).map(([stage, s]) => `${stage} ${s.toFixed(1)} s`).join(', ')}; ${result.cpuSeconds.toFixed(0)} CPU seconds.`,
    '',
  ].join('\n');
}
