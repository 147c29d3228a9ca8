import type { AttributionRow } from '../corpus/types.ts';

/** Slack for normalised scores that float32 rounding pushed just outside [0, 1]. */
const UNIT_SLACK = 1e-5;

const TOKEN_FIELDS = ['char_start', 'char_end', 'teacher_score', 'student_score', 'teacher_norm', 'student_norm', 'delta', 'flagged'] as const;

/**
 * Checks the invariants the report relies on, so a malformed artifact fails here with the record
 * and field named instead of drawing a wrong heatmap.
 */
export function validateAttributionRow(row: AttributionRow, index: number, source = 'attributions'): void {
  const where = `${source} row ${index} (id ${JSON.stringify(row?.id)})`;
  const fail = (message: string): never => {
    throw new Error(`${where}: ${message}`);
  };
  if (typeof row?.id !== 'string') fail('field id must be a string');
  if (typeof row.text !== 'string') fail('field text must be a string');
  if (typeof row.region !== 'string') fail('field region must be a string');
  if (!Array.isArray(row.tokens)) fail('field tokens must be a list');
  const n = row.tokens.length;
  for (const field of TOKEN_FIELDS) {
    const values = row[field] as ArrayLike<unknown> | undefined;
    if (!values || typeof values.length !== 'number') fail(`field ${field} must be a list`);
    if (values!.length !== n) fail(`field ${field} has ${values!.length} entries but tokens has ${n}`);
  }
  for (let i = 0; i < n; i++) {
    const start = row.char_start[i];
    const end = row.char_end[i];
    if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end < start || end > row.text.length)
      fail(`token ${i} has character span [${start}, ${end}) outside the text (length ${row.text.length})`);
    for (const field of ['teacher_score', 'student_score', 'delta'] as const)
      if (!Number.isFinite(row[field][i])) fail(`field ${field}[${i}] is ${row[field][i]}, not a finite number`);
    for (const field of ['teacher_norm', 'student_norm'] as const) {
      const value = row[field][i];
      if (!(value >= -UNIT_SLACK && value <= 1 + UNIT_SLACK)) fail(`field ${field}[${i}] = ${value} is outside [0, 1]`);
    }
    if (typeof row.tokens[i] !== 'string') fail(`field tokens[${i}] must be a string`);
  }
  if (!Array.isArray(row.spans)) fail('field spans must be a list');
  row.spans.forEach((span, k) => {
    if (!Number.isInteger(span?.start) || !Number.isInteger(span?.end) || span.start < 0 || span.end < span.start || span.end > row.text.length)
      fail(`spans[${k}] = [${span?.start}, ${span?.end}) is outside the text (length ${row.text.length})`);
  });
  for (const field of ['teacher_loss', 'student_loss', 'threshold'] as const)
    if (typeof row[field] !== 'number' || Number.isNaN(row[field])) fail(`field ${field} must be a number, got ${row[field]}`);
}
