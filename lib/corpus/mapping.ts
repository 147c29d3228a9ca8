import type { Sample } from './types.ts';

/** Which source columns become a Sample's fields (`--id-field`, `--instruction-field`, ...). */
export interface FieldMapping {
  /** Column holding a unique sample id; without it the id is the 0-based record index. */
  idField?: string;
  instructionField: string;
  inputField: string;
  responseField: string;
  answerField: string;
}

export const DEFAULT_FIELD_MAPPING: Readonly<FieldMapping> = {
  instructionField: 'instruction',
  inputField: 'input',
  responseField: 'output',
  answerField: 'answer',
};

/** Why one record cannot become a Sample; the caller adds where it is. */
export class RecordError extends Error {}

/** A required field absent from a record: the corpus reader says more when every record lacks it. */
export class MissingFieldError extends RecordError {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

/** The option that names each mapped field, and column names that often hold it in public datasets. */
export const FIELD_OPTIONS: Record<keyof FieldMapping, { flag: string; likely: readonly string[] }> = {
  idField: { flag: '--id-field', likely: ['id', 'uid', 'idx', 'sample_id'] },
  instructionField: { flag: '--instruction-field', likely: ['prompt', 'question', 'query', 'problem', 'instruction', 'text'] },
  inputField: { flag: '--input-field', likely: ['context', 'input'] },
  responseField: { flag: '--response-field', likely: ['response', 'completion', 'solution', 'output', 'target', 'answer'] },
  answerField: { flag: '--answer-field', likely: ['final_answer', 'label', 'answer'] },
};

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

function requiredText(record: Record<string, unknown>, field: string): string {
  if (!(field in record)) {
    const present = Object.keys(record);
    const shown = present.slice(0, 12).join(', ') + (present.length > 12 ? ', …' : '');
    throw new MissingFieldError(field, `missing field "${field}" (fields present: ${shown || 'none'})`);
  }
  const value = record[field];
  if (typeof value !== 'string') throw new RecordError(`field "${field}" must be a string, got ${typeName(value)}`);
  if (value.trim() === '') throw new RecordError(`field "${field}" is empty`);
  return value;
}

function optionalText(record: Record<string, unknown>, field: string, { numbers }: { numbers: boolean }): string {
  const value = record[field];
  if (value === undefined || value === null) return '';
  if (typeof value === 'string') return value;
  // Gold answers are often stored as numbers (e.g. 42); the checkers compare text.
  if (numbers && ((typeof value === 'number' && Number.isFinite(value)) || typeof value === 'bigint')) return String(value);
  throw new RecordError(`field "${field}" must be a string${numbers ? ' or a number' : ''}, got ${typeName(value)}`);
}

function sampleId(record: Record<string, unknown>, field: string): string {
  if (!(field in record)) throw new MissingFieldError(field, `missing id field "${field}"`);
  const value = record[field];
  if (typeof value === 'string' && value !== '') return value;
  if ((typeof value === 'number' && Number.isInteger(value)) || typeof value === 'bigint') return String(value);
  throw new RecordError(`id field "${field}" must be a non-empty string or an integer, got ${typeName(value)}`);
}

/** The source columns a mapping consumes; every other column goes to Sample.extra. */
export function mappedFields(mapping: FieldMapping): ReadonlySet<string | undefined> {
  return new Set([mapping.idField, mapping.instructionField, mapping.inputField, mapping.responseField, mapping.answerField]);
}

/** One source record as a Sample, or a RecordError saying what is wrong with it. */
export function toSample(value: unknown, index: number, mapping: FieldMapping, mapped = mappedFields(mapping)): Sample {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new RecordError(`record must be an object with named fields, got ${typeName(value)}`);
  const record = value as Record<string, unknown>;
  const sample: Sample = {
    id: mapping.idField === undefined ? String(index) : sampleId(record, mapping.idField),
    index,
    instruction: requiredText(record, mapping.instructionField),
    input: optionalText(record, mapping.inputField, { numbers: false }),
    output: requiredText(record, mapping.responseField),
    answer: optionalText(record, mapping.answerField, { numbers: true }),
    extra: {},
  };
  for (const key in record) if (!mapped.has(key)) sample.extra[key] = record[key];
  return sample;
}
