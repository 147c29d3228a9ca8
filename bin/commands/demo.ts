import { Command } from 'commander';
import { demoOptionSpecs, runDemo, type DemoOptions } from '../../lib/demo/index.ts';
import { addOptions } from '../../lib/util/options.ts';

export const demoCommand = addOptions(
  new Command('demo').description('run analyze, prune, distill (KD and LeaF), eval and report on the shipped planted-confounder task'),
  demoOptionSpecs,
).action(async (options: DemoOptions) => {
  await runDemo(options);
});
