import { existsSync, readFileSync } from 'node:fs';
import { writeFileAtomic } from '../util/atomic.ts';
import { launchLayout } from './layout.ts';
import type { LaunchRecord } from './types.ts';

export function readLaunchRecord(dir: string): LaunchRecord | undefined {
  const path = launchLayout(dir).record;
  if (!existsSync(path)) return undefined;
  const record = JSON.parse(readFileSync(path, 'utf8')) as LaunchRecord;
  if (record.format !== 'leaf-launch/1') throw new Error(`${path}: not a leaf launch record`);
  return record;
}

export function requireLaunchRecord(dir: string): LaunchRecord {
  const record = readLaunchRecord(dir);
  if (!record) throw new Error(`${dir} holds no launch (${launchLayout(dir).record} is missing): start one with --executor`);
  return record;
}

export function writeLaunchRecord(dir: string, record: LaunchRecord): void {
  writeFileAtomic(launchLayout(dir).record, `${JSON.stringify(record, null, 2)}\n`);
}

/** Shards (0..n-1) whose completion marker is there. */
export function completedShards(dir: string, shards: number): Set<number> {
  const layout = launchLayout(dir);
  const done = new Set<number>();
  for (let shard = 0; shard < shards; shard++) if (existsSync(layout.marker(shard))) done.add(shard);
  return done;
}
