import { existsSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { ATTRIBUTIONS_FILE, MANIFEST_FILE } from '../analyze/index.ts';
import { parseRuleSpec } from '../confounders/index.ts';
import { sha256File } from '../corpus/hash.ts';
import { inferExtraFields } from '../corpus/infer.ts';
import { readManifest, type FileRef, type Manifest } from '../corpus/manifest.ts';
import { DEFAULT_FIELD_MAPPING, describeSchema, readAttributions, readCorpus, type AttributionRow, type Corpus, type FieldMapping } from '../corpus/index.ts';
import type { PruneOptions } from './options.ts';
import { MismatchError, type RegionLayout } from './regions.ts';
import { ANSWER_COLUMNS, COUNTERFACTUAL_ID } from './rows.ts';

/** The analysis output and the corpus, checked to belong together. */
export interface PruneInputs {
  manifestPath: string;
  manifest: Manifest;
  attributions: FileRef;
  data: FileRef;
  corpus: Corpus;
  /** Attribution rows by sample id, in file order. */
  rowsById: Map<string, AttributionRow[]>;
  layout: RegionLayout;
  level: 'instruction' | 'response';
  /** Canonical rule spec per field. */
  rules: { user: string; response: string };
}

const SHOWN = 5;

const shortHash = (sha: string) => `${sha.slice(0, 12)}…`;

function optionalString(manifest: Manifest, key: string, path: string): string | undefined {
  const value = manifest.options[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new Error(`${path}: options.${key} must be a string, got ${JSON.stringify(value)}`);
  return value;
}

function fieldMapping(options: PruneOptions, manifest: Manifest, path: string): FieldMapping {
  const pick = (key: keyof FieldMapping) => options[key] ?? optionalString(manifest, key, path);
  return {
    idField: pick('idField'),
    instructionField: pick('instructionField') ?? DEFAULT_FIELD_MAPPING.instructionField,
    inputField: pick('inputField') ?? DEFAULT_FIELD_MAPPING.inputField,
    responseField: pick('responseField') ?? DEFAULT_FIELD_MAPPING.responseField,
    answerField: pick('answerField') ?? DEFAULT_FIELD_MAPPING.answerField,
  };
}

function ruleSpecs(manifest: Manifest, path: string): PruneInputs['rules'] {
  const rule = optionalString(manifest, 'rule', path);
  if (rule === undefined) throw new Error(`${path}: options.rule is missing, so the threshold rule that flagged the spans is unknown`);
  const canonical = (spec: string, key: string) => {
    try {
      return parseRuleSpec(spec).spec;
    } catch (error) {
      throw new Error(`${path}: options.${key}: ${(error as Error).message}`);
    }
  };
  const user = canonical(rule, 'rule');
  const responseRule = optionalString(manifest, 'responseRule', path);
  return { user, response: responseRule === undefined ? user : canonical(responseRule, 'responseRule') };
}

function listed(items: string[]): string {
  return items.slice(0, SHOWN).map((item) => JSON.stringify(item)).join(', ') + (items.length > SHOWN ? `, … (${items.length} in all)` : '');
}

/** Corpus columns that would clash with the pruned table's own, or that hold mixed types: found before any work. */
function checkCorpusColumns(corpus: Corpus, verify: boolean, dataPath: string): void {
  const taken = new Set<string>(describeSchema('pruned').map((column) => column.name));
  if (verify) for (const column of ANSWER_COLUMNS) taken.add(column);
  const clashes = new Set<string>();
  for (const sample of corpus.samples) for (const key of Object.keys(sample.extra)) if (taken.has(key)) clashes.add(key);
  if (clashes.size > 0)
    throw new Error(
      `${dataPath}: column(s) ${listed([...clashes])} have the name of a column the pruned dataset writes${verify ? ' (--verify adds teacher_answer, student_answer)' : ''}; rename them in the data`,
    );
  try {
    inferExtraFields(corpus.samples);
  } catch (error) {
    throw new Error(`${dataPath}: ${(error as Error).message}`);
  }
  const ids = new Set(corpus.samples.map((sample) => sample.id));
  for (const id of ids) {
    const source = COUNTERFACTUAL_ID.exec(id)?.[1];
    if (source !== undefined && ids.has(source))
      throw new Error(`${dataPath}: sample id "${id}" is the id pruning gives a counterfactual of sample "${source}"; rename one of them`);
  }
}

function groupRows(rows: AttributionRow[]): Map<string, AttributionRow[]> {
  const byId = new Map<string, AttributionRow[]>();
  for (const row of rows) {
    const list = byId.get(row.id);
    if (list) list.push(row);
    else byId.set(row.id, [row]);
  }
  return byId;
}

/**
 * Read the analysis manifest, its attributions and the corpus, and refuse a pair that does not
 * belong together: the data file must be the one analysed (sha256 in the manifest), the
 * attributions file the one analysis wrote (when the manifest records its sha256), and every
 * attributed id must be in the data. Per-row text checks follow in placeRegions.
 */
export async function loadPruneInputs(options: PruneOptions): Promise<PruneInputs> {
  // --attributions names the analysis directory, or the attributions file inside it.
  const givenFile = existsSync(options.attributions) && statSync(options.attributions).isFile();
  const dir = givenFile ? dirname(options.attributions) : options.attributions;
  const manifestPath = join(dir, MANIFEST_FILE);
  if (!existsSync(manifestPath)) throw new Error(`${manifestPath} does not exist: --attributions must be a leaf analyze output directory`);
  const manifest = readManifest(manifestPath);
  const recordedFile = manifest.outputs?.attributions?.path;
  const file = givenFile ? options.attributions : join(dir, recordedFile ? basename(recordedFile) : ATTRIBUTIONS_FILE);
  if (!existsSync(file)) throw new Error(`${file} does not exist (the attributions of ${manifestPath})`);

  const attributionsSha = await sha256File(file);
  const recorded = manifest.outputs?.attributions?.sha256;
  if (recorded !== undefined && recorded !== attributionsSha)
    throw new MismatchError(`${file} (sha256 ${shortHash(attributionsSha)}) is not the file the analysis wrote (sha256 ${shortHash(recorded)} in ${manifestPath}): it changed since`);

  const mapping = fieldMapping(options, manifest, manifestPath);
  const onError = options.onError ?? (optionalString(manifest, 'onError', manifestPath) as 'fail' | 'skip' | undefined) ?? 'fail';
  const corpus = await readCorpus(options.data, mapping, { onError });
  if (corpus.sha256 !== manifest.data.sha256)
    throw new MismatchError(
      `${options.data} (sha256 ${shortHash(corpus.sha256)}) is not the data the attributions were computed from ` +
        `(${manifest.data.path}, sha256 ${shortHash(manifest.data.sha256)} in ${manifestPath}): the data changed since the analysis, or this is another file`,
    );
  checkCorpusColumns(corpus, options.verify, options.data);

  const rows = await readAttributions(file);
  const rowsById = groupRows(rows);
  const ids = new Set(corpus.samples.map((sample) => sample.id));
  const missing = [...rowsById.keys()].filter((id) => !ids.has(id));
  if (missing.length > 0)
    throw new MismatchError(`${file}: ${missing.length} attributed sample id(s) are not in ${options.data}: ${listed(missing)} (the data changed, or it is read with other --*-field options)`);

  const hasResponseRegions = rows.some((row) => row.region !== 'instruction');
  const level = optionalString(manifest, 'level', manifestPath) ?? (hasResponseRegions ? 'response' : 'instruction');
  if (level !== 'instruction' && level !== 'response') throw new Error(`${manifestPath}: options.level must be instruction or response, got "${level}"`);
  const segments = manifest.options.segments;
  return {
    manifestPath,
    manifest,
    attributions: { path: file, sha256: attributionsSha, bytes: statSync(file).size },
    data: { path: options.data, sha256: corpus.sha256, bytes: statSync(options.data).size },
    corpus,
    rowsById,
    layout: { segments: typeof segments === 'number' ? segments : undefined },
    level,
    rules: ruleSpecs(manifest, manifestPath),
  };
}
