import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createManifest, fileRef, mergeShards, readManifest, writeManifest, type ArrowEncoding, type Manifest, type SkippedEntry } from '../corpus/index.ts';
import { ATTRIBUTIONS_FILE, MANIFEST_FILE, type AnalyzeResult } from './run.ts';

export interface MergeOptions {
  out: string;
  arrowFormat: ArrowEncoding;
}

function shardManifest(dir: string): Manifest {
  const path = join(dir, MANIFEST_FILE);
  if (!existsSync(path)) throw new Error(`${dir}: no ${MANIFEST_FILE}; a shard writes it when it has finished (resume it with --resume)`);
  const manifest = readManifest(path);
  if (manifest.step !== 'analyze' || !manifest.shard) throw new Error(`${path}: not the manifest of a leaf analyze shard`);
  return manifest;
}

/**
 * `leaf merge`: combine the output directories of `leaf analyze --shard i/n` runs into
 * OUT/attributions.arrow (corpus order, identical to an unsharded run's) and OUT/manifest.json
 * (the shards' counts and timings added up).
 */
export async function mergeAnalyzeShards(shardDirs: string[], options: MergeOptions, command?: string[]): Promise<AnalyzeResult> {
  const started = performance.now();
  if (shardDirs.some((dir) => resolve(dir) === resolve(options.out))) throw new Error(`--out ${options.out} is one of the shard directories; choose another`);
  const manifests = shardDirs.map(shardManifest);
  const first = manifests[0];
  manifests.forEach((m, i) => {
    if (m.data.sha256 !== first.data.sha256) throw new Error(`${shardDirs[i]} analysed other data than ${shardDirs[0]} (data sha256 differs)`);
  });
  const attributions = join(options.out, ATTRIBUTIONS_FILE);
  // mergeShards checks that the shards come from one configuration and cover every sample once.
  const written = await mergeShards(shardDirs, attributions, { arrowFormat: options.arrowFormat });
  const sum = (key: string) => manifests.reduce((n, m) => n + ((m.counts[key] as number | undefined) ?? 0), 0);
  // Bad corpus records (no id) are the same in every shard's manifest; skipped samples are per shard.
  const skippedRecords = first.counts.skipped.filter((s) => s.id === undefined);
  const skippedSamples = manifests.flatMap((m) => m.counts.skipped.filter((s) => s.id !== undefined));
  skippedSamples.sort((a: SkippedEntry, b: SkippedEntry) => (a.index ?? 0) - (b.index ?? 0));
  const timings: Record<string, number> = {};
  for (const m of manifests) for (const [phase, value] of Object.entries(m.timings)) timings[phase] = (timings[phase] ?? 0) + value;
  timings.merge = Math.round((performance.now() - started) / 10) / 100;
  const { shard: _shard, shards: _shards, ...options0 } = first.options;
  const manifest = createManifest({
    step: 'analyze',
    ...(command ? { command } : {}),
    backend: first.backend,
    models: first.models,
    data: first.data,
    inputs: Object.fromEntries(await Promise.all(shardDirs.map(async (dir, i) => [`shard ${manifests[i].shard!.index}/${manifests[i].shard!.count}`, await fileRef(join(dir, MANIFEST_FILE))] as const))),
    outputs: { attributions: { ...(await fileRef(attributions)), rows: written.rows, format: `arrow-${options.arrowFormat}` } },
    method: first.method,
    rule: first.rule,
    options: { ...options0, out: options.out, arrowFormat: options.arrowFormat },
    counts: {
      done: sum('done'),
      skipped: [...skippedRecords, ...skippedSamples],
      samples: sum('samples'),
      records: first.counts.records as number,
      rows: written.rows,
    },
    timings,
  });
  writeManifest(join(options.out, MANIFEST_FILE), manifest);
  return { dir: options.out, attributions, manifest };
}
