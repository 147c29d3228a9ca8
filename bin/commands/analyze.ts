import { Command } from 'commander';
import { analyzeOptionSpecs, runAnalyze, type AnalyzeOptions } from '../../lib/analyze/index.ts';
import { addOptions } from '../../lib/util/options.ts';
import { printAnalyzeSummary } from './analyze-summary.ts';

export const analyzeCommand = addOptions(
  new Command('analyze').description('score tokens by teacher/student gradient sensitivity and flag confounders'),
  analyzeOptionSpecs,
).action(async (options: AnalyzeOptions) => {
  printAnalyzeSummary(await runAnalyze(options));
});
