import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { readAttributions, readPruned } from '../corpus/index.ts';
import { readRun } from './runs.ts';
import type { AnalyzeManifestLike, ReportInput } from './types.ts';

export interface ReportSources {
  /** `leaf analyze --out` directory (attributions.arrow + manifest.json), or an attributions file. */
  attributions: string;
  /** `leaf prune --out` file; its directory's summary.json is read when present. */
  pruned?: string;
  /** `leaf distill --out` directories, in the order the evaluation table compares them (first = baseline). */
  runs?: string[];
  title?: string;
}

function readJsonObject(path: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new Error(`${path}: not valid JSON (${(error as Error).message})`);
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw new Error(`${path}: expected a JSON object`);
  return value as Record<string, unknown>;
}

/** Reads every artifact `leaf report` was pointed at. */
export async function loadReportInput(sources: ReportSources): Promise<ReportInput> {
  if (!existsSync(sources.attributions)) throw new Error(`--attributions ${sources.attributions}: no such file or directory`);
  const isDir = statSync(sources.attributions).isDirectory();
  const dir = isDir ? sources.attributions : dirname(sources.attributions);
  const file = isDir ? join(dir, 'attributions.arrow') : sources.attributions;
  if (!existsSync(file)) throw new Error(`--attributions ${sources.attributions}: no attributions.arrow in it (is this a leaf analyze output directory?)`);
  const manifestPath = join(dir, 'manifest.json');
  const input: ReportInput = {
    attributions: await readAttributions(file),
    title: sources.title ?? basename(resolve(dir)),
  };
  if (existsSync(manifestPath)) input.manifest = readJsonObject(manifestPath) as AnalyzeManifestLike;
  if (sources.pruned) {
    if (!existsSync(sources.pruned)) throw new Error(`--pruned ${sources.pruned}: no such file`);
    input.pruned = await readPruned(sources.pruned);
    const summaryPath = join(dirname(sources.pruned), 'summary.json');
    if (existsSync(summaryPath)) input.pruneSummary = readJsonObject(summaryPath);
  }
  if (sources.runs?.length) input.runs = sources.runs.map(readRun);
  return input;
}
