import type { CharSpan } from '../text/types.ts';

/**
 * Removing character spans from a text so that the result can be undone exactly: every character
 * outside the recorded removed spans is kept as it was, and the only characters removed beyond
 * the asked-for spans are whitespace at a seam, recorded with them.
 *
 * Offsets are UTF-16 code units (JavaScript string indices), like every character offset leaf
 * writes.
 */

/** A removed piece of the original text, in the original's coordinates. */
export interface RemovedSpan {
  start: number;
  end: number;
  text: string;
}

export interface Removal {
  /** The text with the spans removed. */
  text: string;
  /** What was removed, ascending, disjoint; re-inserting it into `text` gives back the original. */
  removed: RemovedSpan[];
}

const isSpace = (char: string | undefined) => char !== undefined && /\s/.test(char);
const LINE_BREAK = /\r\n|[\n\r\v\f\u0085\u2028\u2029]/g;
const lineBreaks = (text: string) => text.match(LINE_BREAK)?.length ?? 0;

/** Clip `spans` to `part`; overlapping, touching or whitespace-separated ranges become one. */
function rangesIn(text: string, spans: readonly CharSpan[], part: CharSpan): CharSpan[] {
  const clipped = spans
    .map((span) => ({ start: Math.max(span.start, part.start), end: Math.min(span.end, part.end) }))
    .filter((span) => span.end > span.start)
    .sort((a, b) => a.start - b.start);
  const merged: CharSpan[] = [];
  for (const span of clipped) {
    const last = merged[merged.length - 1];
    // Two removals with only whitespace between them leave one seam, handled as one removal.
    if (last && text.slice(last.end, span.start).trim() === '') last.end = Math.max(last.end, span.end);
    else merged.push({ ...span });
  }
  return merged;
}

/**
 * Extend one removal over the whitespace its seam would leave behind, within `part`:
 * - whitespace on both sides (e.g. "a  b" after removing a word between two spaces): the side
 *   with fewer line breaks goes (on a tie the shorter one, then the right one), so "x BAR\ny"
 *   becomes "x\ny" and "x BAR y" becomes "x y";
 * - nothing but whitespace left of the removal within the part (it starts the part): the
 *   whitespace it exposes on its right goes, and symmetrically at the part's end; a removal that
 *   leaves only whitespace in the part takes that whitespace too.
 */
function withSeam(text: string, range: CharSpan, part: CharSpan): CharSpan {
  let left = range.start;
  while (left > part.start && isSpace(text[left - 1])) left--;
  let right = range.end;
  while (right < part.end && isSpace(text[right])) right++;
  const atStart = left === part.start;
  const atEnd = right === part.end;
  if (atStart && atEnd) return { start: left, end: right };
  if (atStart) return { start: range.start, end: right };
  if (atEnd) return { start: left, end: range.end };
  if (left === range.start || right === range.end) return range;
  const before = text.slice(left, range.start);
  const after = text.slice(range.end, right);
  const keepBefore =
    lineBreaks(before) !== lineBreaks(after) ? lineBreaks(before) > lineBreaks(after) : before.length >= after.length;
  return keepBefore ? { start: range.start, end: right } : { start: left, end: range.end };
}

/**
 * Remove `spans` from `text`. Removals never cross the edges of `parts` (default: the whole
 * text): a span reaching over an edge is cut there, and the characters between parts are always
 * kept. Each part's edges act as text edges for the seam rules of withSeam.
 */
export function removeSpans(text: string, spans: readonly CharSpan[], parts: readonly CharSpan[] = [{ start: 0, end: text.length }]): Removal {
  for (const span of spans)
    if (!(Number.isInteger(span.start) && Number.isInteger(span.end) && span.start >= 0 && span.start <= span.end && span.end <= text.length))
      throw new Error(`span [${span.start}, ${span.end}) is not inside the text (length ${text.length})`);
  const removed = parts
    .flatMap((part) => rangesIn(text, spans, part).map((range) => withSeam(text, range, part)))
    .sort((a, b) => a.start - b.start)
    .map(({ start, end }) => ({ start, end, text: text.slice(start, end) }));
  return { text: keptText(text, removed), removed };
}

/** The characters of `text` between `from` and `to` that lie outside the (ascending, disjoint) `removed` spans. */
export function keptText(text: string, removed: readonly CharSpan[], from = 0, to = text.length): string {
  let kept = '';
  let at = from;
  for (const span of removed) {
    if (span.end <= at || span.start >= to) continue;
    kept += text.slice(at, Math.max(at, span.start));
    at = Math.max(at, span.end);
  }
  return kept + text.slice(at, Math.max(at, to));
}

/** Undo a removal: put each removed span back at its original position. */
export function reinsertSpans(pruned: string, removed: readonly RemovedSpan[]): string {
  let original = '';
  let from = 0;
  let shift = 0;
  for (const span of [...removed].sort((a, b) => a.start - b.start)) {
    const at = span.start - shift;
    if (at < from || at > pruned.length || span.text.length !== span.end - span.start)
      throw new Error(`removed span [${span.start}, ${span.end}) does not fit the pruned text (length ${pruned.length})`);
    original += pruned.slice(from, at) + span.text;
    from = at;
    shift += span.text.length;
  }
  return original + pruned.slice(from);
}
