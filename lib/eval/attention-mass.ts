import * as tf from '@tensorflow/tfjs-core';
import type { AttributionRow } from '../corpus/types.ts';
import { userMessage } from '../corpus/prompt.ts';
import type { CausalLM } from '../models/types.ts';
import { renderChat, tokenizeChat } from '../text/index.ts';
import type { CharSpan, TextTokenizer, TokenizedChat } from '../text/types.ts';

export interface MassItem {
  id: string;
  instruction: string;
  input: string;
  output: string;
}

/** One analysed region of one sample. */
export interface RegionMass {
  id: string;
  region: string;
  /** Mean over response positions, layers and heads of the attention on flagged tokens. */
  flaggedMass: number;
  /** Same, on every token of the analysed region. */
  regionMass: number;
  /** flaggedMass / regionMass: the share of the region's attention that goes to confounders. */
  ratio: number;
  flaggedTokens: number;
  regionTokens: number;
}

const overlaps = (span: CharSpan, start: number, end: number) => span.end > span.start && span.start < end && span.end > start;

/**
 * Where the attribution's region text sits in the rendered chat: inside the user message for the
 * instruction, inside the response for earlier response segments ("response-k"). Templates may
 * trim whitespace, so the trimmed text is looked for too. Returns the offset of region text
 * position 0 in the rendered text.
 */
function locateRegion(chat: TokenizedChat, attribution: AttributionRow): number {
  const window = attribution.region === 'instruction' ? chat.instruction : chat.response;
  const inside = chat.text.slice(window.start, window.end);
  const exact = inside.indexOf(attribution.text);
  if (exact >= 0) return window.start + exact;
  const trimmed = attribution.text.trim();
  const at = trimmed ? inside.indexOf(trimmed) : -1;
  if (at < 0)
    throw new Error(`sample ${attribution.id}: the ${attribution.region} text of the attributions is not in the rendered sample (was the data changed after \`leaf analyze\`?)`);
  return window.start + at - (attribution.text.length - attribution.text.trimStart().length);
}

/**
 * The attention-mass metric for one region: queries are the positions that predict response
 * tokens after the region (all of the response for the instruction), attention is averaged over
 * layers and heads, and mass is summed over flagged tokens and over the region's tokens.
 */
export function regionAttentionMass(model: CausalLM, tokenizer: TextTokenizer, item: MassItem, attribution: AttributionRow): RegionMass {
  const chat = tokenizeChat(tokenizer, renderChat(tokenizer, userMessage(item), item.output));
  const offset = locateRegion(chat, attribution);
  const regionEnd = offset + attribution.text.length;
  const offsets = chat.encoding.offsets;
  const inRegion = offsets.map((span) => overlaps(span, offset, regionEnd));
  const flagged = offsets.map((span, i) => inRegion[i] && attribution.spans.some((s) => overlaps(span, offset + s.start, offset + s.end)));
  const queries = chat.responseTokens.filter((i) => offsets[i].start >= regionEnd && i > 0).map((i) => i - 1);
  const regionTokens = inRegion.filter(Boolean).length;
  const flaggedTokens = flagged.filter(Boolean).length;
  if (queries.length === 0 || regionTokens === 0)
    throw new Error(`sample ${attribution.id}: no response tokens after the ${attribution.region} region, or the region has no tokens`);
  const length = chat.encoding.ids.length;
  const indicator = new Float32Array(length * 2);
  for (let k = 0; k < length; k++) {
    indicator[2 * k] = flagged[k] ? 1 : 0;
    indicator[2 * k + 1] = inRegion[k] ? 1 : 0;
  }
  const masses = tf.tidy(() => {
    const { logits, attentions } = model.forward(tf.tensor2d([chat.encoding.ids], [1, length], 'int32'), { outputAttentions: true });
    logits.dispose();
    if (!attentions?.length) throw new Error(`model ${model.source} returned no attention probabilities`);
    const mean = tf.div(tf.addN(attentions.map((a) => tf.mean(a, 1))), attentions.length);
    const rows = tf.gather(tf.reshape(mean, [length, length]), tf.tensor1d(queries, 'int32'));
    return tf.mean(tf.matMul(rows, tf.tensor2d(indicator, [length, 2])), 0);
  });
  const [flaggedMass, regionMass] = Array.from(masses.dataSync());
  masses.dispose();
  return { id: attribution.id, region: attribution.region, flaggedMass, regionMass, ratio: flaggedMass / regionMass, flaggedTokens, regionTokens };
}
