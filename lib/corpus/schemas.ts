import { Bool, DataType, Field, Float32, Int32, List, Schema, Struct, Utf8 } from 'apache-arrow';
import { typeLabel } from './column-types.ts';
import type { AttributionRow, PrunedRow } from './types.ts';

/**
 * The Arrow schemas of leaf's artifacts, defined once: the writer, the readers, the Parquet
 * schema and the README's tables are all derived from the column lists below.
 */

export interface ColumnSpec {
  type: DataType;
  nullable?: boolean;
  description: string;
}

/** One spec per field of the row type, so the compiler catches a field without a column. */
type Columns<Row> = { [K in keyof Row]-?: ColumnSpec };

const listOf = (type: DataType) => new List(new Field('item', type, false));
const utf8 = new Utf8();
const int32 = new Int32();
const float32 = new Float32();
const charSpan = new Struct([new Field('start', int32, false), new Field('end', int32, false)]);
const removedSpan = new Struct([new Field('start', int32, false), new Field('end', int32, false), new Field('text', utf8, false)]);

const ATTRIBUTION_COLUMNS: Columns<AttributionRow> = {
  id: { type: utf8, description: 'Sample id (from `--id-field`, else the 0-based record index).' },
  region: { type: utf8, description: '`instruction`, or `response-k` for the k-th (1-based) earlier response segment.' },
  text: { type: utf8, description: "The analysed region's text; every character offset below points into it." },
  tokens: { type: listOf(utf8), description: "The student's tokens of the region, as the text each covers: `text[char_start:char_end]`." },
  char_start: { type: listOf(int32), description: "Start character of each token in `text`." },
  char_end: { type: listOf(int32), description: 'End character (exclusive) of each token in `text`.' },
  teacher_score: { type: listOf(float32), description: "Teacher's raw score per student token (projected through characters when the tokenizers differ)." },
  student_score: { type: listOf(float32), description: "Student's raw score per token." },
  teacher_norm: { type: listOf(float32), description: 'Teacher scores min-max normalised over the region, in [0, 1].' },
  student_norm: { type: listOf(float32), description: 'Student scores min-max normalised over the region, in [0, 1].' },
  delta: { type: listOf(float32), description: '`teacher_norm - student_norm` (re-normalised to [0, 1] with `--renormalize`); low = confounder candidate.' },
  flagged: { type: listOf(new Bool()), description: 'Whether each token was flagged (delta <= threshold; whitespace never).' },
  spans: { type: listOf(charSpan), description: 'Character spans of maximal runs of flagged tokens, also cut at phrase edges under `--span-cut phrase` (the manifest\'s `options.spanCut`), into `text` (end exclusive).' },
  teacher_loss: { type: float32, description: "Teacher's mean NLL of the supervised response tokens (the last segment at `--level response`)." },
  student_loss: { type: float32, description: "Student's mean NLL of the supervised response tokens (the last segment at `--level response`)." },
  threshold: { type: float32, description: 'The threshold actually applied to `delta` for this row.' },
};

const PRUNED_COLUMNS: Columns<Omit<PrunedRow, 'extra'>> = {
  id: { type: utf8, description: 'Unique row id (originals keep the sample id).' },
  source_id: { type: utf8, description: 'Id of the sample this row comes from.' },
  kind: { type: utf8, description: '`original` or `counterfactual`.' },
  instruction: { type: utf8, description: 'Instruction text (pruned in counterfactuals at instruction level).' },
  input: { type: utf8, description: 'Input text appended to the instruction ("" when absent).' },
  output: { type: utf8, description: 'Reference response (earlier segments pruned at response level).' },
  answer: { type: utf8, description: 'Gold answer ("" when absent).' },
  removed_spans: { type: listOf(removedSpan), description: "Spans removed, with their text, in the pruned text's coordinates (UTF-16 code units): the user message `instruction + \"\\n\\n\" + input` (just `instruction` when `input` is empty) at instruction level, `output` at response level. Re-inserting them in order gives the original text back." },
  removed_chars: { type: int32, description: 'Characters removed: the sum of `end - start` over `removed_spans` (UTF-16 code units).' },
  mode: { type: utf8, description: '`span` (one counterfactual per flagged span) or `collective` (one per analysed region, removing all its spans at once).' },
  level: { type: utf8, description: '`instruction` (the user message) or `response` (`output`): which text was pruned; on originals, the analysis level.' },
  rule: { type: utf8, description: 'Threshold rule that flagged the spans, e.g. `percentile:p=0.05,cap=0.5` (`not-analysed` on originals of samples without attributions).' },
  threshold: { type: float32, description: 'Threshold applied to delta in the pruned region (originals: in the instruction region; 0 for samples not analysed).' },
  verified: { type: new Bool(), nullable: true, description: 'Both models answer correctly on this row (`--verify`); null when not verified.' },
  weight: { type: float32, description: 'Distillation loss weight: lambda for originals, (1 - lambda) spread evenly over a sample\'s counterfactuals; 1 for an original without counterfactuals, so each sample weighs 1 in total.' },
};

export interface ArtifactSchema {
  name: string;
  description: string;
  columns: Record<string, ColumnSpec>;
  /** Whether rows also carry the source corpus' other columns (from `extra`), after the fixed ones. */
  carriesExtraColumns: boolean;
}

export const ARTIFACT_SCHEMAS = {
  attributions: {
    name: 'attributions',
    description: '`attributions.arrow`, written by `leaf analyze`: one row per analysed region of a sample.',
    columns: ATTRIBUTION_COLUMNS,
    carriesExtraColumns: false,
  },
  pruned: {
    name: 'pruned',
    description: 'The intervened dataset written by `leaf prune`: originals and counterfactuals in one table.',
    columns: PRUNED_COLUMNS,
    carriesExtraColumns: true,
  },
} as const satisfies Record<string, ArtifactSchema>;

export type ArtifactName = keyof typeof ARTIFACT_SCHEMAS;
export type ArtifactRow<N extends ArtifactName> = N extends 'attributions' ? AttributionRow : PrunedRow;

/** Schema metadata keys that identify a leaf artifact. */
export const ARTIFACT_METADATA_KEY = 'leaf.artifact';
export const SCHEMA_VERSION_METADATA_KEY = 'leaf.schema_version';
export const SCHEMA_VERSION = '1';

export function artifactSchema(name: ArtifactName): ArtifactSchema {
  const schema: ArtifactSchema | undefined = ARTIFACT_SCHEMAS[name];
  if (!schema) throw new Error(`unknown artifact schema "${name}" (known: ${Object.keys(ARTIFACT_SCHEMAS).join(', ')})`);
  return schema;
}

/** The artifact's fixed columns as Arrow fields, in order. */
export function fixedFields(name: ArtifactName): Field[] {
  return Object.entries(artifactSchema(name).columns).map(([column, spec]) => new Field(column, spec.type, spec.nullable ?? false));
}

/** The Arrow schema of an artifact; `extraFields` are the carried-through source columns. */
export function arrowSchema(name: ArtifactName, extraFields: Field[] = []): Schema {
  const fixed = fixedFields(name);
  if (extraFields.length > 0 && !artifactSchema(name).carriesExtraColumns)
    throw new Error(`${name} rows do not carry extra columns (got ${extraFields.map((field) => field.name).join(', ')})`);
  const taken = new Set(fixed.map((field) => field.name));
  for (const field of extraFields)
    if (taken.has(field.name))
      throw new Error(`the source column "${field.name}" has the name of a ${name} column; rename it in the data (or map it with a --*-field option)`);
  const metadata = new Map([
    [ARTIFACT_METADATA_KEY, name],
    [SCHEMA_VERSION_METADATA_KEY, SCHEMA_VERSION],
  ]);
  return new Schema([...fixed, ...extraFields], metadata);
}

export interface ColumnDescription {
  name: string;
  /** pyarrow-style type, e.g. `list<float32>`. */
  type: string;
  nullable: boolean;
  description: string;
}

export function describeSchema(name: ArtifactName): ColumnDescription[] {
  return Object.entries(artifactSchema(name).columns).map(([column, spec]) => ({
    name: column,
    type: typeLabel(spec.type),
    nullable: spec.nullable ?? false,
    description: spec.description,
  }));
}

/** A Markdown table of an artifact's columns, for the README. */
export function schemaMarkdown(name: ArtifactName): string {
  const escape = (text: string) => text.replace(/\|/g, '\\|');
  const lines = [
    artifactSchema(name).description,
    '',
    '| column | type | description |',
    '| --- | --- | --- |',
    ...describeSchema(name).map(
      (column) => `| \`${column.name}\` | \`${escape(column.type)}\`${column.nullable ? ' (nullable)' : ''} | ${escape(column.description)} |`,
    ),
  ];
  if (artifactSchema(name).carriesExtraColumns)
    lines.push('', 'Every other column of the source corpus follows, unchanged (types inferred from the values).');
  return lines.join('\n');
}
