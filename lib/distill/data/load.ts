import { openTable } from '../../corpus/formats/index.ts';
import { readCorpus } from '../../corpus/read-corpus.ts';
import { readPruned } from '../../corpus/rows.ts';
import { ARTIFACT_METADATA_KEY } from '../../corpus/schemas.ts';
import type { FieldMapping } from '../../corpus/mapping.ts';
import { rowFromPruned, rowFromSample, withFocus, type TrainingRow } from './rows.ts';

const PRUNED_MARKERS = ['source_id', 'kind', 'weight'];

export interface LoadedRows {
  rows: TrainingRow[];
  sha256: string;
  /** 'pruned' for `leaf prune` output, else the corpus format (every row an original of weight 1). */
  kind: 'pruned' | 'corpus';
}

/**
 * Rows of a `leaf prune` dataset (recognised by its schema tag, or by having source_id, kind and
 * weight columns) or of any corpus `leaf analyze` reads.
 */
export async function loadTrainingRows(path: string, mapping: Partial<FieldMapping> = {}): Promise<LoadedRows> {
  const { source, sha256 } = await openTable(path);
  const tag = source.schema?.metadata.get(ARTIFACT_METADATA_KEY);
  let first: unknown;
  for (const record of source.records) {
    first = record.value;
    break;
  }
  const looksPruned = typeof first === 'object' && first !== null && PRUNED_MARKERS.every((key) => key in first!);
  if (tag === 'pruned' || (tag === undefined && looksPruned)) {
    const pruned = await readPruned(path);
    const rows = withFocus(pruned.map((row, index) => rowFromPruned(row, index, path)), pruned);
    return { rows, sha256, kind: 'pruned' };
  }
  const corpus = await readCorpus(path, mapping);
  return { rows: corpus.samples.map((sample) => rowFromSample(sample, path)), sha256: corpus.sha256, kind: 'corpus' };
}
