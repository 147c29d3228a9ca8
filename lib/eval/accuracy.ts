import { userMessage } from '../corpus/prompt.ts';
import { greedyGenerate } from '../models/index.ts';
import type { CausalLM } from '../models/types.ts';
import { renderPrompt, tokenizeChat } from '../text/index.ts';
import type { TextTokenizer } from '../text/types.ts';
import type { AnswerChecker } from './checkers/index.ts';

export interface AnswerItem {
  id: string;
  instruction: string;
  input: string;
  answer: string;
}

export interface Prediction {
  id: string;
  prediction: string;
  correct: boolean;
}

export interface AccuracyOptions {
  maxNewTokens: number;
  /** Prompts generated together (sorted by length so a batch pads little). */
  batchSize: number;
  onBatch?: (done: number) => void;
}

/**
 * Prompt ids as the model sees them at generation time: the chat template with its generation
 * prompt, tokenised like training chats (BOS added only when the template did not write it).
 */
export function promptIds(tokenizer: TextTokenizer, instruction: string): number[] {
  const prompt = renderPrompt(tokenizer, instruction);
  const end = { start: prompt.text.length, end: prompt.text.length };
  const chat = tokenizeChat(tokenizer, { ...prompt, response: end, contentSpans: { ...prompt.contentSpans, response: { start: 0, end: 0 } } });
  return chat.encoding.ids;
}

/** Greedy answers (KV cache) for every item, judged by `checker` against the item's gold answer. */
export function answerAccuracy(model: CausalLM, tokenizer: TextTokenizer, items: AnswerItem[], checker: AnswerChecker, options: AccuracyOptions): Prediction[] {
  const eos = [...new Set([...tokenizer.eosTokenIds, ...model.config.eosTokenIds])];
  const prompts = items.map((item) => promptIds(tokenizer, userMessage(item)));
  const order = items.map((_, i) => i).sort((a, b) => prompts[a].length - prompts[b].length);
  const predictions = new Array<Prediction>(items.length);
  for (let start = 0; start < order.length; start += options.batchSize) {
    const batch = order.slice(start, start + options.batchSize);
    const outputs = greedyGenerate(model, batch.map((i) => prompts[i]), { maxNewTokens: options.maxNewTokens, eosTokenIds: eos, padTokenId: tokenizer.padTokenId ?? 0 });
    batch.forEach((i, b) => {
      const prediction = tokenizer.decode(outputs[b], { skipSpecialTokens: true });
      let correct: boolean;
      try {
        correct = checker.check(prediction, items[i].answer);
      } catch (error) {
        throw new Error(`sample ${items[i].id}: ${(error as Error).message}`);
      }
      predictions[i] = { id: items[i].id, prediction, correct };
    });
    options.onBatch?.(Math.min(order.length, start + options.batchSize));
  }
  return predictions;
}
