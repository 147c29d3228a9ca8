import { Command } from 'commander';
import { analyzeOptionSpecs, runAnalyze, type AnalyzeOptions } from '../../lib/analyze/index.ts';
import { checkNoLaunchFlags, launch, launchOptionSpecs, type LaunchFlags } from '../../lib/launch/index.ts';
import { addOptions, argvFromOptions, splitOptions } from '../../lib/util/options.ts';
import { printAnalyzeSummary } from './analyze-summary.ts';

export const analyzeCommand = addOptions(
  addOptions(new Command('analyze').description('score tokens by teacher/student gradient sensitivity and flag confounders'), analyzeOptionSpecs),
  launchOptionSpecs,
).action(async (parsed: Record<string, unknown>) => {
  const [flags, rest] = splitOptions<LaunchFlags>(parsed, launchOptionSpecs);
  const options = rest as unknown as AnalyzeOptions;
  if (!flags.executor) {
    checkNoLaunchFlags(flags);
    if (options.shards !== undefined && options.shard?.trim() !== 'auto') throw new Error('--shards applies with --shard auto or --executor');
    printAnalyzeSummary(await runAnalyze(options));
    return;
  }
  if (options.shard !== undefined) throw new Error('--executor runs every shard itself: leave out --shard (give the count with --shards N)');
  const argv = argvFromOptions(analyzeOptionSpecs, { ...options, out: undefined, shard: undefined, shards: undefined, resume: undefined });
  process.stdout.write(launch({ command: 'analyze', out: options.out, shards: options.shards, resume: options.resume, argv, arrowFormat: options.arrowFormat, flags }));
});
