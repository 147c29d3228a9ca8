import type { CharSpan } from '../text/types.ts';

/** Which parts of a sample are scored: the instruction only, or also earlier response segments. */
export type AnalysisLevel = 'instruction' | 'response';

/** An analysed region, in the coordinates of its source field (the user message or the response). */
export interface RegionDef {
  /** "instruction" or "response-k" (k = 1-based index of an earlier response segment). */
  name: string;
  field: 'user' | 'response';
  span: CharSpan;
  text: string;
}

export interface SampleRegions {
  /** The user message as the models see it (instruction, plus input when present). */
  user: string;
  response: string;
  regions: RegionDef[];
  /** The supervised part of the response: all of it, or its last segment in response-level mode. */
  target: CharSpan;
}

/** A response that cannot be split into the asked number of segments. */
export class UnsplittableResponse extends Error {}

/**
 * Split points of a response into `segments` parts: line starts (after a run of whitespace that
 * contains a newline) when there are enough of them, else sentence starts (after . ! ? and
 * whitespace). Among the candidates, the cut points that make the segments closest to equal length
 * are chosen. Returns undefined when the text has too few candidate points.
 */
export function splitPoints(text: string, segments: number): number[] | undefined {
  const cuts = segments - 1;
  if (cuts <= 0) return [];
  for (const pattern of [/\s*\n\s*(?=\S)/g, /[.!?]\s+(?=\S)/g]) {
    const candidates = [...text.matchAll(pattern)].map((m) => m.index + m[0].length).filter((p) => p > 0 && p < text.length);
    if (candidates.length >= cuts) return bestCuts(candidates, cuts, text.length);
  }
  return undefined;
}

function bestCuts(candidates: number[], cuts: number, length: number): number[] {
  const ideal = length / (cuts + 1);
  let best: number[] = [];
  let bestCost = Infinity;
  const search = (from: number, chosen: number[]) => {
    if (chosen.length === cuts) {
      const bounds = [0, ...chosen, length];
      let cost = 0;
      for (let i = 1; i < bounds.length; i++) cost += (bounds[i] - bounds[i - 1] - ideal) ** 2;
      if (cost < bestCost) [bestCost, best] = [cost, [...chosen]];
      return;
    }
    for (let i = from; i <= candidates.length - (cuts - chosen.length); i++) search(i + 1, [...chosen, candidates[i]]);
  };
  search(0, []);
  return best;
}

/**
 * The regions of one sample. Instruction level: the user message is the region, the whole response
 * the target. Response level: the response is split into `segments` parts; the earlier parts become
 * regions "response-1".. next to the instruction, the last part is the target.
 */
export function sampleRegions(user: string, response: string, level: AnalysisLevel, segments = 2): SampleRegions {
  const regions: RegionDef[] = [{ name: 'instruction', field: 'user', span: { start: 0, end: user.length }, text: user }];
  if (level === 'instruction') return { user, response, regions, target: { start: 0, end: response.length } };
  const points = splitPoints(response, segments);
  if (!points) throw new UnsplittableResponse(`the response has no line or sentence boundaries to split it into ${segments} segments`);
  const bounds = [0, ...points, response.length];
  for (let k = 1; k < bounds.length - 1; k++) {
    const span = { start: bounds[k - 1], end: bounds[k] };
    regions.push({ name: `response-${k}`, field: 'response', span, text: response.slice(span.start, span.end) });
  }
  return { user, response, regions, target: { start: bounds[bounds.length - 2], end: response.length } };
}

const OPENERS: Record<string, string> = { '(': ')', '[': ']', '{': '}' };
/** Words that close a clause: they end with one of these (":" does not: "hint : 7" is one clause). */
const CLAUSE_END = /[.;?!,]$/;

/**
 * Multi-word units of a text: bracketed groups ("( 7 )", "[ see below ]") and clauses (words up to
 * and including one ending in . ; ? ! or ,). Units of one word, and one covering the whole text, are
 * left out: a word is its own unit already, and removing everything ranks nothing.
 */
export function phrases(text: string): CharSpan[] {
  const all = words(text);
  const out: CharSpan[] = [];
  const emit = (from: number, to: number) => {
    if (to > from && !(from === 0 && to === all.length - 1)) out.push({ start: all[from].start, end: all[to].end });
  };
  let clause = 0;
  for (let i = 0; i < all.length; i++) {
    const word = text.slice(all[i].start, all[i].end);
    const closer = OPENERS[word[0]];
    if (closer) {
      const close = all.findIndex((w, j) => j >= i && text.slice(w.start, w.end).endsWith(closer));
      if (close > i) {
        emit(clause, i - 1);
        emit(i, close);
        i = close;
        clause = close + 1;
        continue;
      }
    }
    if (CLAUSE_END.test(word)) {
      emit(clause, i);
      clause = i + 1;
    }
  }
  emit(clause, all.length - 1);
  return out;
}

/** Whitespace-delimited words of a text (the units occlusion removes). */
export function words(text: string): CharSpan[] {
  return [...text.matchAll(/\S+/g)].map((m) => ({ start: m.index, end: m.index + m[0].length }));
}

/**
 * The text with one word removed together with the whitespace after it (before it, for the last
 * word), so no doubled or dangling space is left where it was.
 */
export function withoutWord(text: string, word: CharSpan): string {
  let { start, end } = word;
  const after = /^\s+/.exec(text.slice(end));
  if (after && end + after[0].length < text.length) end += after[0].length;
  else {
    const before = /\s+$/.exec(text.slice(0, start));
    if (before) start -= before[0].length;
    else if (after) end += after[0].length;
  }
  return text.slice(0, start) + text.slice(end);
}
