import { openTable, type RawRecord } from './formats/index.ts';
import { DEFAULT_FIELD_MAPPING, FIELD_OPTIONS, MissingFieldError, RecordError, mappedFields, toSample, type FieldMapping } from './mapping.ts';
import type { Sample } from './types.ts';

export type OnError = 'fail' | 'skip';

/** A record left out of the corpus, with why (what `--on-error skip` records in the manifest). */
export interface SkippedRecord {
  /** 0-based record index. */
  index: number;
  /** 1-based line, for line-oriented formats. */
  line?: number;
  reason: string;
  /** The full message: file, line or row, reason. */
  message: string;
}

export interface Corpus {
  samples: Sample[];
  skipped: SkippedRecord[];
  /** sha256 of the file as stored: ties later artifacts to exactly this data. */
  sha256: string;
  format: string;
}

/** Thrown under `onError: 'fail'`; lists the bad records found in the whole file. */
export class CorpusError extends Error {
  constructor(
    message: string,
    readonly problems: SkippedRecord[],
  ) {
    super(message);
  }
}

const SHOWN_PROBLEMS = 5;
const SHOWN_FIELDS = 20;

/**
 * A mapped field that no record has is a mapping problem, not a thousand bad records: name the
 * option, the fields the records do have, and the likeliest of them.
 */
function unmappedField(path: string, mapping: FieldMapping, field: string, present: Set<string>): CorpusError {
  const role = (Object.keys(FIELD_OPTIONS) as (keyof FieldMapping)[]).find((key) => mapping[key] === field)!;
  const { flag, likely } = FIELD_OPTIONS[role];
  const used = mappedFields(mapping);
  const candidates = [...present].filter((name) => !used.has(name));
  const guess = likely.find((name) => candidates.includes(name)) ?? candidates[0];
  const shown = [...present].slice(0, SHOWN_FIELDS).join(', ') + (present.size > SHOWN_FIELDS ? ', …' : '');
  return new CorpusError(
    `${path}: no record has the field "${field}" (${flag}); the records have: ${shown || 'no fields'}.` +
      (guess ? ` Name the column to use with ${flag}, e.g. ${flag} ${guess}` : ''),
    [],
  );
}

function failure(path: string, problems: SkippedRecord[]): CorpusError {
  const shown = problems.slice(0, SHOWN_PROBLEMS).map((problem) => `  ${problem.message}`);
  const more = problems.length > SHOWN_PROBLEMS ? [`  … and ${problems.length - SHOWN_PROBLEMS} more`] : [];
  return new CorpusError(
    [`${path}: ${problems.length} bad record(s); stopping before anything is written (use --on-error skip to skip them):`, ...shown, ...more].join('\n'),
    problems,
  );
}

/**
 * Read a corpus (JSONL, JSON array, Arrow IPC file or stream, Parquet; optionally gzipped) into
 * Samples. Every record is checked before anything is returned, so a failing read never leaves
 * partial output behind.
 */
export async function readCorpus(
  path: string,
  mapping: Partial<FieldMapping> = {},
  { onError = 'fail' }: { onError?: OnError } = {},
): Promise<Corpus> {
  const fields: FieldMapping = { ...DEFAULT_FIELD_MAPPING, ...mapping };
  const { format, source, sha256 } = await openTable(path);
  const samples: Sample[] = [];
  const problems: SkippedRecord[] = [];
  const firstSeen = new Map<string, string>();
  const mapped = mappedFields(fields);
  const locate = (record: RawRecord) => (record.line !== undefined ? `line ${record.line}` : `row ${record.index}`);
  const reject = (record: RawRecord, reason: string) =>
    problems.push({
      index: record.index,
      ...(record.line !== undefined && { line: record.line }),
      reason,
      message: `${record.line !== undefined ? `${path}:${record.line}` : `${path}: row ${record.index}`}: ${reason}`,
    });
  let records = 0;
  const missing = new Map<string, number>();
  const present = new Set<string>();
  for (const record of source.records) {
    records++;
    if (record.error !== undefined) {
      reject(record, record.error);
      continue;
    }
    let sample: Sample;
    try {
      sample = toSample(record.value, record.index, fields, mapped);
    } catch (error) {
      if (!(error instanceof RecordError)) throw error;
      if (error instanceof MissingFieldError) {
        missing.set(error.field, (missing.get(error.field) ?? 0) + 1);
        for (const key of Object.keys(record.value as object)) present.add(key);
      }
      reject(record, error.message);
      continue;
    }
    const earlier = firstSeen.get(sample.id);
    if (earlier !== undefined) {
      reject(record, `duplicate id "${sample.id}" (first at ${earlier})`);
      continue;
    }
    firstSeen.set(sample.id, locate(record));
    samples.push(sample);
  }
  const absent = [...missing].find(([, count]) => count === records);
  if (absent) throw unmappedField(path, fields, absent[0], present);
  if (problems.length > 0 && onError === 'fail') throw failure(path, problems);
  if (samples.length === 0)
    throw new CorpusError(
      records === 0 ? `${path}: the file holds no records` : `${path}: no usable records (all ${records} were skipped)`,
      problems,
    );
  return { samples, skipped: problems, sha256, format: format.name };
}
