/** lib/corpus: reading corpora, and the schemas, writer and readers of leaf's artifacts. */
export type { Sample, AttributionRow, PrunedRow } from './types.ts';
export { userMessage, INPUT_SEPARATOR } from './prompt.ts';
export { DEFAULT_FIELD_MAPPING, type FieldMapping } from './mapping.ts';
export { fieldMappingSpecs, pickFieldMapping } from './mapping-options.ts';
export { readCorpus, CorpusError, type Corpus, type OnError, type SkippedRecord } from './read-corpus.ts';
export {
  ARTIFACT_SCHEMAS,
  arrowSchema,
  describeSchema,
  schemaMarkdown,
  type ArtifactName,
  type ArtifactRow,
  type ColumnDescription,
} from './schemas.ts';
export { writeRows, writeTable, readRows, readAttributions, readPruned, type WriteRowsOptions, type WriteRowsResult } from './rows.ts';
export { WRITABLE_FORMATS, type WritableFormat, type ArrowEncoding } from './formats/index.ts';
export { sha256File, configFingerprint } from './hash.ts';
export {
  createManifest,
  writeManifest,
  readManifest,
  fileRef,
  modelRef,
  MANIFEST_FORMAT,
  type Manifest,
  type ManifestInput,
  type ManifestCounts,
  type FileRef,
  type ModelRef,
  type SkippedEntry,
} from './manifest.ts';
export {
  finishedRun,
  openRun,
  mergeShards,
  runProgress,
  shardSamples,
  parseShard,
  WHOLE_CORPUS,
  Run,
  type RunOptions,
  type Shard,
  type SampleResult,
  type SkippedSample,
  type AssembleResult,
} from './resumable.ts';
export { resolveShard, shardOptionSpecs } from './shard-auto.ts';
