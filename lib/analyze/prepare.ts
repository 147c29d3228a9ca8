import type { LossInput, OcclusionUnit, ScoringInput, UnitKind } from '../attribution/index.ts';
import { phrases, words, withoutWord, type RegionDef, type SampleRegions } from '../confounders/index.ts';
import type { CausalLM } from '../models/types.ts';
import type { CharSpan, TextTokenizer, TokenizedChat } from '../text/types.ts';
import { SkipSample } from './errors.ts';

/** One model with what analysis needs to feed it. */
export interface ModelSide {
  role: 'teacher' | 'student';
  model: CausalLM;
  tokenizer: TextTokenizer;
  /** Render (user message, response) with this model's chat template and tokenise it. */
  tokenize(user: string, response: string): TokenizedChat;
  /** Any id the model accepts; padded positions are masked out, so its value does not matter. */
  padId: number;
}

/** How over-long samples are handled (--max-length, --on-long). */
export interface LengthPolicy {
  maxLength: number;
  /** skip: the sample is skipped with a reason. truncate: tokens past maxLength are dropped, so the loss covers a response prefix; skipped still when an analysed region or every target falls past the cut. */
  onLong: 'skip' | 'truncate';
}


/** One region as one model tokenised it. */
export interface PreparedRegion {
  /** Token indices (into the model's encoding) overlapping the region. */
  tokens: number[];
  /** Their character spans into the region text, clipped to it. */
  spans: CharSpan[];
}

/** One sample rendered for one model. */
export interface PreparedSide {
  input: ScoringInput;
  regions: PreparedRegion[];
}

/** Where a field's text landed in a rendered chat; templates may trim it (Llama 3 does). */
interface FieldPlacement {
  /** Offset of the rendered part inside the field text. */
  offset: number;
  length: number;
  /** Start of the rendered part in the chat text. */
  at: number;
}

function place(chat: TokenizedChat, part: 'instruction' | 'response', field: string, role: string): FieldPlacement {
  const span = chat[part];
  const content = chat.contentSpans[part];
  if (chat.text.slice(span.start, span.end) !== field.slice(content.start, content.end))
    throw new Error(`the ${role}'s chat template changes the ${part} text beyond trimming whitespace, so its characters cannot be matched to the sample's`);
  return { offset: content.start, length: content.end - content.start, at: span.start };
}

/** Field coordinate → chat coordinate (clamped to the rendered part). */
function toChat(p: FieldPlacement, position: number): number {
  return p.at + Math.min(Math.max(position - p.offset, 0), p.length);
}

function overlapping(chat: TokenizedChat, from: number, to: number): number[] {
  const out: number[] = [];
  chat.encoding.offsets.forEach((o, i) => {
    if (!chat.encoding.special[i] && o.end > o.start && o.start < to && o.end > from) out.push(i);
  });
  return out;
}

/** Target tokens: those overlapping the target span (as the text stage's responseTokens), never position 0. */
function targetsOf(chat: TokenizedChat, from: number, to: number): number[] {
  return overlapping(chat, from, to).filter((i) => i >= 1);
}

function regionOf(chat: TokenizedChat, region: RegionDef, p: FieldPlacement): PreparedRegion {
  const from = toChat(p, region.span.start);
  const to = toChat(p, region.span.end);
  const tokens = overlapping(chat, from, to);
  const length = region.span.end - region.span.start;
  // chat position → region position: back to field coordinates, then relative to the region.
  const local = (x: number) => Math.min(Math.max(x - p.at + p.offset - region.span.start, 0), length);
  return { tokens, spans: tokens.map((i) => ({ start: local(chat.encoding.offsets[i].start), end: local(chat.encoding.offsets[i].end) })) };
}

interface Tokenised {
  ids: number[];
  targets: number[];
  regions: PreparedRegion[];
}

function tokenise(side: ModelSide, layout: SampleRegions, policy: LengthPolicy): Tokenised {
  const chat = side.tokenize(layout.user, layout.response);
  const user = place(chat, 'instruction', layout.user, side.role);
  const response = place(chat, 'response', layout.response, side.role);
  let ids = chat.encoding.ids;
  let targets = targetsOf(chat, toChat(response, layout.target.start), toChat(response, layout.target.end));
  const regions = layout.regions.map((r) => regionOf(chat, r, r.field === 'user' ? user : response));
  if (targets.length === 0) throw new SkipSample(`${side.role}: the response has no tokens to take the loss on`);
  if (ids.length > policy.maxLength) {
    const what = `${side.role}: ${ids.length} tokens > --max-length ${policy.maxLength}`;
    if (policy.onLong === 'skip') throw new SkipSample(what);
    if (regions.some((r) => r.tokens.some((t) => t >= policy.maxLength))) throw new SkipSample(`${what}, and an analysed region lies past the cut`);
    ids = ids.slice(0, policy.maxLength);
    targets = targets.filter((t) => t < policy.maxLength);
    if (targets.length === 0) throw new SkipSample(`${what}, and no response token is left before the cut`);
  }
  return { ids, targets, regions };
}

/** With `spans` (non-overlapping) of `region` removed: the new (user, response) and the shifted target. */
function withoutSpansIn(layout: SampleRegions, region: RegionDef, spans: CharSpan[]): SampleRegions {
  // Right to left, so each removal leaves the earlier spans' offsets valid.
  const shortened = [...spans].sort((a, b) => b.start - a.start).reduce((text, span) => withoutWord(text, span), region.text);
  const replace = (field: string) => field.slice(0, region.span.start) + shortened + field.slice(region.span.end);
  const removed = region.text.length - shortened.length;
  if (region.field === 'user') return { ...layout, user: replace(layout.user), regions: [] };
  return {
    ...layout,
    response: replace(layout.response),
    regions: [],
    target: { start: layout.target.start - removed, end: layout.target.end - removed },
  };
}

const UNIT_FINDERS: Record<UnitKind, (text: string) => CharSpan[]> = { word: words, phrase: phrases };

/** The units of every region (kinds in the order given) and a renderer of the sample without any set of them. */
function occlusionUnits(side: ModelSide, layout: SampleRegions, prepared: Tokenised, policy: LengthPolicy, kinds: readonly UnitKind[]) {
  const found: { region: number; span: CharSpan; unit: Omit<OcclusionUnit, 'variant'> }[] = [];
  layout.regions.forEach((region, r) => {
    const { tokens, spans } = prepared.regions[r];
    for (const kind of kinds)
      for (const span of UNIT_FINDERS[kind](region.text))
        found.push({ region: r, span, unit: { kind, text: region.text.slice(span.start, span.end), tokens: tokens.filter((_, k) => spans[k].start < span.end && spans[k].end > span.start) } });
  });
  const without = (indices: number[]): LossInput => {
    let shortened = layout;
    // Later regions first: removing text from one region does not move an earlier one.
    for (let r = layout.regions.length - 1; r >= 0; r--) {
      const spans = indices.filter((i) => found[i].region === r).map((i) => found[i].span);
      if (spans.length) shortened = { ...withoutSpansIn(shortened, layout.regions[r], spans), regions: [] };
    }
    const variant = tokenise(side, shortened, { ...policy, onLong: 'truncate' });
    return { ids: variant.ids, targets: variant.targets };
  };
  // Variants are rendered when first read: a method may score only some units.
  const units = found.map((f, i) => {
    let variant: LossInput | undefined;
    return { ...f.unit, get variant() { return (variant ??= without([i])); } };
  });
  return { units, without };
}

/**
 * Render, tokenise and locate the regions of one sample for one model; with `unitKinds`, also the
 * sample re-rendered without each word / phrase of its regions. Throws SkipSample for samples that cannot
 * be analysed.
 */
export function prepareSide(side: ModelSide, layout: SampleRegions, policy: LengthPolicy, unitKinds: readonly UnitKind[] = []): PreparedSide {
  const prepared = tokenise(side, layout, policy);
  const scored = [...new Set(prepared.regions.flatMap((r) => r.tokens))].sort((a, b) => a - b);
  const occlusion = unitKinds.length ? occlusionUnits(side, layout, prepared, policy, unitKinds) : undefined;
  return {
    input: {
      ids: prepared.ids,
      targets: prepared.targets,
      scored,
      ...(occlusion ? { occlusionUnits: occlusion.units, without: occlusion.without } : {}),
    },
    regions: prepared.regions,
  };
}
