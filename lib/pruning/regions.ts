import { sampleRegions, UnsplittableResponse } from '../confounders/index.ts';
import { userMessage } from '../corpus/prompt.ts';
import type { AttributionRow, Sample } from '../corpus/types.ts';
import type { CharSpan } from '../text/types.ts';
import type { FieldName } from './fields.ts';

/** An attribution row placed in its sample: which field its text is and where it starts there. */
export interface PlacedRegion {
  row: AttributionRow;
  field: FieldName;
  /** The row's flagged spans, in field coordinates. */
  spans: CharSpan[];
  /** Mean Δ of the tokens each span covers (low = stronger confounder candidate). */
  strengths: number[];
}

/** How analysis cut samples into regions (from its manifest). */
export interface RegionLayout {
  /** Number of response segments in response-level analysis. */
  segments?: number;
}

/** Attributions and data do not belong together; the message names the sample, region and what differs. */
export class MismatchError extends Error {}

const RESPONSE_REGION = /^response-(\d+)$/;

function describeDifference(expected: string, actual: string): string {
  let i = 0;
  while (i < expected.length && i < actual.length && expected[i] === actual[i]) i++;
  const show = (text: string) => JSON.stringify(text.slice(Math.max(0, i - 10), i + 20));
  return `they differ at character ${i}: the data has ${show(expected)}, the attributions ${show(actual)}`;
}

/** The region's text and offset as the data gives it now. */
function regionInData(sample: Sample, region: string, layout: RegionLayout, where: string): { field: FieldName; offset: number; text: string } {
  if (region === 'instruction') return { field: 'user', offset: 0, text: userMessage(sample) };
  if (!RESPONSE_REGION.test(region)) throw new MismatchError(`${where}: unknown region "${region}" (expected instruction or response-k)`);
  if (layout.segments === undefined)
    throw new MismatchError(`${where}: a response-level region, but the analysis manifest has no options.segments to split the response with`);
  let regions;
  try {
    regions = sampleRegions(userMessage(sample), sample.output, 'response', layout.segments).regions;
  } catch (error) {
    if (!(error instanceof UnsplittableResponse)) throw error;
    throw new MismatchError(`${where}: the response in the data cannot be split into ${layout.segments} segments any more (${error.message}); the data changed since the analysis`);
  }
  const found = regions.find((r) => r.name === region);
  if (!found) throw new MismatchError(`${where}: the response splits into ${layout.segments} segments, so there is no region "${region}"`);
  return { field: 'response', offset: found.span.start, text: found.text };
}

const splitsSurrogatePair = (text: string, at: number) =>
  at > 0 && at < text.length && /[\uD800-\uDBFF]/.test(text[at - 1]) && /[\uDC00-\uDFFF]/.test(text[at]);

function checkSpans(row: AttributionRow, where: string): void {
  let previousEnd = 0;
  for (const { start, end } of row.spans) {
    const span = `flagged span [${start}, ${end})`;
    if (!Number.isInteger(start) || !Number.isInteger(end) || start < previousEnd || end <= start || end > row.text.length)
      throw new MismatchError(`${where}: ${span} is not inside the region text (length ${row.text.length}) after the previous span (ending at ${previousEnd})`);
    if (splitsSurrogatePair(row.text, start) || splitsSurrogatePair(row.text, end))
      throw new MismatchError(`${where}: ${span} splits a character (a UTF-16 surrogate pair)`);
    previousEnd = end;
  }
  const tokens = row.delta.length;
  if (row.char_start.length !== tokens || row.char_end.length !== tokens)
    throw new MismatchError(`${where}: char_start, char_end and delta have different lengths (${row.char_start.length}, ${row.char_end.length}, ${tokens})`);
}

function spanStrength(row: AttributionRow, span: CharSpan, where: string): number {
  let sum = 0;
  let count = 0;
  for (let t = 0; t < row.delta.length; t++) {
    if (row.char_start[t] < span.end && row.char_end[t] > span.start) {
      sum += row.delta[t];
      count++;
    }
  }
  if (count === 0) throw new MismatchError(`${where}: flagged span [${span.start}, ${span.end}) covers no token of the row`);
  return sum / count;
}

/**
 * Place a sample's attribution rows in its fields, checking that each row was computed from the
 * text the data holds now (a changed text is an error, never a silently wrong removal).
 */
export function placeRegions(sample: Sample, rows: readonly AttributionRow[], layout: RegionLayout, source: string): PlacedRegion[] {
  const seen = new Set<string>();
  return rows.map((row) => {
    const where = `${source}: sample "${sample.id}", region "${row.region}"`;
    if (seen.has(row.region)) throw new MismatchError(`${where}: the region appears twice`);
    seen.add(row.region);
    const { field, offset, text } = regionInData(sample, row.region, layout, where);
    if (text !== row.text)
      throw new MismatchError(`${where}: the analysed text is not the data's (${describeDifference(text, row.text)}); the data changed since the analysis, or it is read with other field options`);
    checkSpans(row, where);
    return {
      row,
      field,
      spans: row.spans.map((span) => ({ start: span.start + offset, end: span.end + offset })),
      strengths: row.spans.map((span) => spanStrength(row, span, where)),
    };
  });
}
