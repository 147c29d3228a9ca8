import type { Command } from 'commander';
import { notYetAvailable } from './not-yet.ts';

/** Every `leaf` subcommand, in the order `leaf --help` lists them. */
export const commands: Command[] = [
  notYetAvailable('env', 'show the tensor backend, BLAS, threads and versions'),
  notYetAvailable('analyze', 'score tokens by teacher/student gradient sensitivity and flag confounders'),
  notYetAvailable('merge', 'combine shard outputs of analyze into one file in corpus order'),
  notYetAvailable('prune', 'write originals plus counterfactuals with confounder spans removed'),
  notYetAvailable('distill', 'distil the teacher into the student on originals and counterfactuals'),
  notYetAvailable('eval', 'accuracy and attention mass on confounders of a model'),
  notYetAvailable('report', 'write a self-contained HTML report of attributions'),
  notYetAvailable('demo', 'run analyze, prune, distill, eval and report on the shipped task'),
];
