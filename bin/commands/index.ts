import type { Command } from 'commander';
import { envCommand } from './env.ts';
import { distillCommand } from './distill.ts';
import { evalCommand } from './eval.ts';
import { reportCommand } from './report.ts';
import { pruneCommand } from './prune.ts';
import { analyzeCommand } from './analyze.ts';
import { mergeCommand } from './merge.ts';
import { demoCommand } from './demo.ts';
import { statusCommand } from './status.ts';

/** Every `leaf` subcommand, in the order `leaf --help` lists them. */
export const commands: Command[] = [
  envCommand,
  analyzeCommand,
  mergeCommand,
  statusCommand,
  pruneCommand,
  distillCommand,
  evalCommand,
  reportCommand,
  demoCommand,
];
