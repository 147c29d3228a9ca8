import { Command } from 'commander';
import { analyzeOptionSpecs, runAnalyze, type AnalyzeOptions } from '../../lib/analyze/index.ts';
import { printAnalyzeSummary } from './analyze-summary.ts';
import { shardedCommand } from './sharded.ts';

export const analyzeCommand = shardedCommand<AnalyzeOptions>(
  new Command('analyze').description('score tokens by teacher/student gradient sensitivity and flag confounders'),
  'analyze',
  analyzeOptionSpecs,
  async (options) => printAnalyzeSummary(await runAnalyze(options)),
);
