import type { AnalyzeResult } from '../../lib/analyze/index.ts';

/** A few lines on stdout: how many samples, why some were skipped, where the output is. */
export function printAnalyzeSummary(result: AnalyzeResult): void {
  const { counts } = result.manifest;
  const reasons = new Map<string, number>();
  for (const { reason } of counts.skipped) {
    const kind = reason.replace(/\d+/g, 'N');
    reasons.set(kind, (reasons.get(kind) ?? 0) + 1);
  }
  const lines = [`analysed ${counts.done} sample(s), skipped ${counts.skipped.length}`];
  for (const [reason, n] of [...reasons].sort((a, b) => b[1] - a[1]).slice(0, 8)) lines.push(`  ${n} × ${reason}`);
  if (result.attributions) lines.push(`wrote ${result.attributions} (${counts.rows} rows) and ${result.dir}/manifest.json`);
  else lines.push(`shard ${result.manifest.shard!.index}/${result.manifest.shard!.count} done in ${result.dir}; combine the shards with leaf merge`);
  process.stdout.write(lines.join('\n') + '\n');
}
