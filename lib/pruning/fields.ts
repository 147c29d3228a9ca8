import { INPUT_SEPARATOR, userMessage } from '../corpus/prompt.ts';
import type { Sample } from '../corpus/types.ts';
import type { CharSpan } from '../text/types.ts';
import { keptText, removeSpans, type RemovedSpan } from './removal.ts';

/**
 * The two texts analysis scores, and how a pruned copy of one goes back into a sample's fields.
 *
 * - `user`: the user message the models see, `instruction` + "\n\n" + `input` (just
 *   `instruction` when `input` is empty) — the coordinates of an `instruction` attribution row.
 *   Instruction and input are pruned separately (a span over the separator is cut in two) and the
 *   separator is kept, unless the whole input goes: then the separator goes with it (and is
 *   recorded as removed), so the pruned message is again userMessage(pruned sample).
 * - `response`: the reference response (`output`) — response-k rows are segments of it.
 */
export type FieldName = 'user' | 'response';

export interface PrunedFields {
  instruction: string;
  input: string;
  output: string;
}

export interface FieldRemoval {
  fields: PrunedFields;
  /** In the coordinates of the field's text (userMessage(sample) or sample.output). */
  removed: RemovedSpan[];
  /** The pruned field text: userMessage(fields) or fields.output. */
  text: string;
}

export function fieldText(sample: Sample, field: FieldName): string {
  return field === 'user' ? userMessage(sample) : sample.output;
}

function userRemoval(sample: Sample, spans: readonly CharSpan[]): FieldRemoval {
  const text = userMessage(sample);
  const instructionEnd = sample.instruction.length;
  const inputStart = instructionEnd + INPUT_SEPARATOR.length;
  const parts = sample.input ? [{ start: 0, end: instructionEnd }, { start: inputStart, end: text.length }] : [{ start: 0, end: instructionEnd }];
  const { removed } = removeSpans(text, spans, parts);
  const instruction = keptText(text, removed, 0, instructionEnd);
  const input = sample.input ? keptText(text, removed, inputStart, text.length) : '';
  if (sample.input && input === '') {
    // The whole input went, so userMessage drops the separator too: record it as removed.
    const whole = removed.find((span) => span.start === inputStart && span.end === text.length)!;
    whole.start = instructionEnd;
    whole.text = text.slice(whole.start, whole.end);
  }
  const fields = { instruction, input, output: sample.output };
  return { fields, removed, text: userMessage(fields) };
}

function responseRemoval(sample: Sample, spans: readonly CharSpan[]): FieldRemoval {
  const { text, removed } = removeSpans(sample.output, spans);
  return { fields: { instruction: sample.instruction, input: sample.input, output: text }, removed, text };
}

/** Remove `spans` (in the field text's coordinates) from one field of a sample. */
export function removeFromField(sample: Sample, field: FieldName, spans: readonly CharSpan[]): FieldRemoval {
  return field === 'user' ? userRemoval(sample, spans) : responseRemoval(sample, spans);
}
