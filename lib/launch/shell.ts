import { fileURLToPath } from 'node:url';
import { launchLayout } from './layout.ts';
import type { LaunchPlan } from './types.ts';

/** "0-2,5,7-8": Slurm's --array syntax for a set of indices. */
export function arraySpec(indices: number[]): string {
  const sorted = [...new Set(indices)].sort((a, b) => a - b);
  const ranges: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j] + 1) j++;
    ranges.push(i === j ? `${sorted[i]}` : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return ranges.join(',');
}

/** One shell word, quoted only when it has to be. */
export const shellQuote = (word: string): string => (/^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`);

/** This installation's leaf, runnable on any node that shares its filesystem. */
export const localLeaf = (): string[] => [process.execPath, fileURLToPath(new URL('../../bin/leaf.js', import.meta.url))];

/**
 * The shell lines one shard task runs: the command on shard `$i` (index and count through
 * `--shard auto`, resuming whatever an earlier attempt committed), then — only if it exited 0 —
 * the completion marker, written by rename so a marker is never half there.
 */
export function shardTaskLines(plan: LaunchPlan, leaf: string[], index: string, markerText: string): string[] {
  const layout = launchLayout(plan.dir);
  const command = [...leaf, plan.command, ...plan.argv, '--shard', 'auto', '--shards', String(plan.shards), '--resume', '--out'].map(shellQuote).join(' ');
  const markers = shellQuote(layout.markers);
  return [
    'set -euo pipefail',
    `i=${index}`,
    `${command} ${shellQuote(layout.shards)}/"$i"`,
    `mkdir -p ${markers}`,
    `printf '%s\\n' "${markerText}" > ${markers}/."$i".tmp`,
    `mv ${markers}/."$i".tmp ${markers}/"$i"`,
  ];
}

/** The shell line of the merge step. */
export const mergeLine = (plan: LaunchPlan, leaf: string[]): string => [...leaf, 'merge', '--launch', plan.dir].map(shellQuote).join(' ');
