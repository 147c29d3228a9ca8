import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../util/atomic.ts';
import { leafVersion } from '../util/version.ts';
import { sha256File } from './hash.ts';

/**
 * `manifest.json`: the provenance of one leaf step (analyze, prune, merge, distill): what ran,
 * on which exact files and models, with what outcome. One general shape for every command; the
 * step-specific settings go in `options`, `rule` and `counts`.
 */

export interface FileRef {
  path: string;
  sha256: string;
  bytes: number;
}

export interface ModelRef {
  /** The checkpoint directory as given. */
  path: string;
  /** config.json's `model_type`. */
  architecture: string;
  /** Every *.safetensors file of the checkpoint, by name within `path`. */
  weights: { file: string; sha256: string; bytes: number }[];
  /** The dtype the model's weight matrices were held in during the step: F32, or BF16/F16 as stored. */
  dtype?: string;
  /** Why it was held in that dtype (`--hold`, or auto's reason with the estimate and the limit). */
  hold?: string;
}

/** A sample (or record) left out, and why. */
export interface SkippedEntry {
  index?: number;
  id?: string;
  line?: number;
  reason: string;
}

export interface ManifestCounts {
  done: number;
  skipped: SkippedEntry[];
  /** Step-specific counts (e.g. selected, counterfactuals, verified). */
  [name: string]: number | SkippedEntry[];
}

export const MANIFEST_FORMAT = 'leaf-manifest/1';

export interface Manifest {
  format: typeof MANIFEST_FORMAT;
  /** The command, e.g. "analyze". */
  step: string;
  /** The command line as typed (argv after the node executable and script). */
  command: string[];
  created: string;
  leafVersion: string;
  /** Compute backend in use (e.g. "native"), where the step uses one. */
  backend?: string;
  models: Record<string, ModelRef>;
  /** The training corpus the step read. */
  data: FileRef;
  /** Other inputs by role (e.g. attributions for prune). */
  inputs?: Record<string, FileRef>;
  /** Files written, by role (e.g. attributions). */
  outputs?: Record<string, FileRef & { rows?: number; format?: string }>;
  /** Attribution method, e.g. "grad-l2". */
  method?: string;
  /** Threshold rule and its parameters, e.g. { name: "percentile", p: 0.05, cap: 0.5 }. */
  rule?: Record<string, unknown>;
  /** Every option the step ran with, so a run can be repeated. */
  options: Record<string, unknown>;
  counts: ManifestCounts;
  /** Seconds, by phase. */
  timings: Record<string, number>;
  /** Shard this manifest covers, when a step ran as one of n shards. */
  shard?: { index: number; count: number };
}

export type ManifestInput = Omit<Manifest, 'format' | 'created' | 'leafVersion' | 'command'> & Partial<Pick<Manifest, 'command' | 'created'>>;

/** The manifest of a step, with format, version, creation time and command line filled in. */
export function createManifest(input: ManifestInput): Manifest {
  const { command, created, ...rest } = input;
  return {
    format: MANIFEST_FORMAT,
    command: command ?? process.argv.slice(2),
    created: created ?? new Date().toISOString(),
    leafVersion: leafVersion(),
    ...rest,
  };
}

export async function fileRef(path: string): Promise<FileRef> {
  return { path, sha256: await sha256File(path), bytes: statSync(path).size };
}

/** Provenance of a Hugging Face checkpoint directory: architecture and sha256 of each weight file. */
export async function modelRef(dir: string): Promise<ModelRef> {
  const configPath = join(dir, 'config.json');
  let config: { model_type?: unknown };
  try {
    config = JSON.parse(readFileSync(configPath, 'utf8'));
  } catch (error) {
    throw new Error(`${configPath}: cannot read the model config (${(error as Error).message})`);
  }
  if (typeof config.model_type !== 'string') throw new Error(`${configPath}: "model_type" is missing`);
  const files = readdirSync(dir)
    .filter((name) => name.endsWith('.safetensors'))
    .sort();
  if (files.length === 0) throw new Error(`${dir}: no *.safetensors weight files`);
  const weights = [];
  for (const file of files) {
    const { sha256, bytes } = await fileRef(join(dir, file));
    weights.push({ file, sha256, bytes });
  }
  return { path: dir, architecture: config.model_type, weights };
}

export function writeManifest(path: string, manifest: Manifest): void {
  writeFileAtomic(path, JSON.stringify(manifest, null, 2) + '\n');
}

type Check = (value: unknown) => boolean;
const isString: Check = (value) => typeof value === 'string';
const isNumber: Check = (value) => typeof value === 'number' && Number.isFinite(value);
const isObject: Check = (value) => typeof value === 'object' && value !== null && !Array.isArray(value);
const isFileRef: Check = (value) =>
  isObject(value) && isString((value as FileRef).path) && isString((value as FileRef).sha256) && isNumber((value as FileRef).bytes);

const REQUIRED: [string, Check, string][] = [
  ['step', isString, 'a string'],
  ['command', (value) => Array.isArray(value) && value.every(isString), 'a list of strings'],
  ['created', isString, 'a string'],
  ['leafVersion', isString, 'a string'],
  ['models', isObject, 'an object'],
  ['data', isFileRef, 'an object with path, sha256 and bytes'],
  ['options', isObject, 'an object'],
  ['counts', (value) => isObject(value) && isNumber((value as ManifestCounts).done) && Array.isArray((value as ManifestCounts).skipped), 'an object with done and skipped'],
  ['timings', isObject, 'an object'],
];

/** Read a manifest, checking the fields every step relies on (error names file and field). */
export function readManifest(path: string): Manifest {
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new Error(`${path}: cannot read the manifest (${(error as Error).message})`);
  }
  if (!isObject(parsed) || parsed.format !== MANIFEST_FORMAT)
    throw new Error(`${path}: not a leaf manifest (expected "format": "${MANIFEST_FORMAT}")`);
  for (const [field, check, expected] of REQUIRED)
    if (!check(parsed[field])) throw new Error(`${path}: manifest field "${field}" must be ${expected}`);
  return parsed as unknown as Manifest;
}
