import { Command } from 'commander';
import { statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { buildReport, loadReportInput, renderSamplePng, type PngScore } from '../../lib/report/index.ts';
import { addOptions, type OptionSpecs } from '../../lib/util/options.ts';
import { writeFileAtomic } from '../../lib/util/atomic.ts';

interface ReportOptions {
  attributions: string;
  pruned?: string;
  runs?: string[];
  out: string;
  title?: string;
  png?: string;
  pngOut?: string;
  pngScore: PngScore;
}

const specs: OptionSpecs<ReportOptions> = {
  attributions: { flags: '--attributions <dir>', description: 'leaf analyze output directory (attributions.arrow, manifest.json)', required: true, mustExist: true },
  pruned: { flags: '--pruned <file>', description: 'leaf prune output (counterfactuals; summary.json beside it is read too)' },
  runs: { flags: '--runs <dir...>', description: 'leaf distill output directories (metrics.jsonl, eval*.json); the first is the baseline' },
  out: { flags: '--out <file>', description: 'the HTML report to write (one self-contained file)', required: true },
  title: { flags: '--title <text>', description: 'title shown in the report (default: the attributions directory name)' },
  png: { flags: '--png <sample-id>', description: 'also write a PNG of this sample\'s heatmap, rendered in headless Chromium' },
  pngOut: { flags: '--png-out <file>', description: 'where the PNG goes (default: next to --out, named after the sample)' },
  pngScore: { flags: '--png-score <score>', description: 'score the PNG colours tokens by', default: 'delta', choices: ['delta', 'teacher', 'student'] },
};

const mb = (bytes: number) => `${(bytes / 1e6).toFixed(2)} MB`;

export const reportCommand = addOptions(new Command('report').description('write a self-contained HTML report of attributions'), specs).action(
  async (options: ReportOptions) => {
    const input = await loadReportInput(options);
    input.generatedAt = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    writeFileAtomic(options.out, buildReport(input));
    process.stdout.write(`wrote ${options.out} (${input.attributions.length} analysed regions, ${mb(statSync(options.out).size)})\n`);
    if (options.png !== undefined) {
      const name = `${basename(options.out).replace(/\.html?$/i, '')}-${options.png.replace(/[^\w.-]+/g, '_')}.png`;
      const outPath = options.pngOut ?? join(dirname(options.out), name);
      await renderSamplePng({ htmlPath: options.out, sampleId: options.png, outPath, score: options.pngScore });
      process.stdout.write(`wrote ${outPath}\n`);
    }
  },
);
