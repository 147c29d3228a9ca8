import { parseShard, type Shard } from './resumable.ts';
import { parseNumber, type OptionSpecs } from '../util/options.ts';

/**
 * The shard a process runs: `i/n` as given, or `auto` from the scheduler that started it — a Slurm
 * array task (SLURM_ARRAY_TASK_ID of SLURM_ARRAY_TASK_COUNT) or a Kubernetes Indexed Job pod
 * (JOB_COMPLETION_INDEX; Kubernetes does not tell a pod the completion count, so `shards` must).
 * `shards` also overrides Slurm's count: a relaunch submits only some indices (`--array=2,5`),
 * and the array's task count is then not the corpus's shard count.
 */
export function resolveShard(spec: string, shards?: number, env: NodeJS.ProcessEnv = process.env): Shard {
  if (spec.trim() !== 'auto') {
    const shard = parseShard(spec);
    if (shards !== undefined && shards !== shard.count) throw new Error(`--shard ${spec} names ${shard.count} shards but --shards is ${shards}`);
    return shard;
  }
  const slurmIndex = env.SLURM_ARRAY_TASK_ID;
  const k8sIndex = env.JOB_COMPLETION_INDEX;
  let index: string;
  let count: string | number | undefined;
  let source: string;
  if (slurmIndex !== undefined && slurmIndex !== '') {
    index = slurmIndex;
    count = shards ?? env.SLURM_ARRAY_TASK_COUNT;
    source = shards !== undefined ? 'SLURM_ARRAY_TASK_ID and --shards' : 'SLURM_ARRAY_TASK_ID / SLURM_ARRAY_TASK_COUNT';
    if (count === undefined || count === '') throw new Error('--shard auto: SLURM_ARRAY_TASK_ID is set but SLURM_ARRAY_TASK_COUNT is not; give the count with --shards N');
  } else if (k8sIndex !== undefined && k8sIndex !== '') {
    if (shards === undefined) throw new Error('--shard auto in a Kubernetes Indexed Job (JOB_COMPLETION_INDEX is set) needs the shard count: add --shards N (the Job\'s completions)');
    index = k8sIndex;
    count = shards;
    source = 'JOB_COMPLETION_INDEX and --shards';
  } else {
    throw new Error(
      '--shard auto needs a scheduler to say which shard this is: neither SLURM_ARRAY_TASK_ID (a Slurm job array task) nor JOB_COMPLETION_INDEX (a Kubernetes Indexed Job) is set; give --shard i/n instead',
    );
  }
  if (!/^\d+$/.test(index) || !/^\d+$/.test(String(count))) throw new Error(`--shard auto: ${source} must be non-negative integers, got index "${index}" and count "${count}"`);
  try {
    return parseShard(`${index}/${count}`);
  } catch {
    throw new Error(`--shard auto: shard index ${index} from ${source} is not below the shard count ${count}`);
  }
}

/** `--shard` and `--shards` of a sharded command; `what` says how a shard's part of the work is chosen. */
export function shardOptionSpecs(what: string): OptionSpecs<{ shard?: string; shards?: number }> {
  return {
    shard: {
      flags: '--shard <i/n|auto>',
      description: `process shard i of n (${what}; combine the shards with leaf merge); auto: i and n from a Slurm array task or a Kubernetes Indexed Job`,
      parse: (raw) => (raw.trim() === 'auto' || parseShard(raw), raw),
    },
    shards: { flags: '--shards <n>', description: 'shard count: for --shard auto (needed in Kubernetes Indexed Jobs), and how many shards --executor launches', parse: parseNumber('--shards', { min: 1, integer: true }) },
  };
}
