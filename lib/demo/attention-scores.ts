import * as tf from '@tensorflow/tfjs-core';
import type { AttributionRow } from '../corpus/types.ts';
import type { CausalLM } from '../models/types.ts';
import { renderChat, tokenizeChat } from '../text/index.ts';
import type { TextTokenizer } from '../text/types.ts';

/**
 * Attention-weight baseline of a detector: for each token of an analysed instruction row, the
 * attention the response positions pay to it (mean over response queries, layers and heads).
 * Tokens are the row's; each gets the summed attention of the model's tokens that overlap it.
 */
export function tokenAttention(model: CausalLM, tokenizer: TextTokenizer, row: AttributionRow, output: string): Float32Array {
  const chat = tokenizeChat(tokenizer, renderChat(tokenizer, row.text, output));
  const offset = chat.instruction.start;
  if (chat.text.slice(offset, chat.instruction.end) !== row.text)
    throw new Error(`tokenAttention: row "${row.id}": the rendered instruction differs from the row's text`);
  const queries = chat.responseTokens.filter((i) => i > 0).map((i) => i - 1);
  const length = chat.encoding.ids.length;
  const received = tf.tidy(() => {
    const { logits, attentions } = model.forward(tf.tensor2d([chat.encoding.ids], [1, length], 'int32'), { outputAttentions: true });
    logits.dispose();
    if (!attentions?.length) throw new Error(`model ${model.source} returned no attention probabilities`);
    const mean = tf.div(tf.addN(attentions.map((a) => tf.mean(a, 1))), attentions.length);
    return tf.mean(tf.gather(tf.reshape(mean, [length, length]), tf.tensor1d(queries, 'int32')), 0);
  });
  const perPosition = received.dataSync() as Float32Array;
  received.dispose();
  const scores = new Float32Array(row.tokens.length);
  chat.encoding.offsets.forEach((span, p) => {
    if (span.end <= span.start) return;
    for (let k = 0; k < scores.length; k++) {
      if (span.start < offset + row.char_end[k] && span.end > offset + row.char_start[k]) scores[k] += perPosition[p];
    }
  });
  return scores;
}
