import { registerTemplate } from './registry.ts';
import { drawPairs, lookupAnswerRange, type Pairs } from './values.ts';

export const KV_WORDS = ['=', ';', 'what', 'is', '?'];

export function renderKeyValue({ keys, values, asked }: Pairs) {
  return {
    context: keys.map((key, i) => `${key} = ${values[i]}`).join(' ') + ' ;',
    question: `what is ${keys[asked]} ?`,
    answer: values[asked],
  };
}

/** "h = 54 a = 24 b = 97 ; what is a ?" -> "24": shuffled keys, so the rule needs an induction circuit. */
registerTemplate({
  name: 'kv-lookup',
  description: 'key = value pairs (random keys, random order), then ask for the value of one key',
  words: KV_WORDS,
  maxItems: 8,
  answerRange: lookupAnswerRange,
  draw: (rng, domain) => renderKeyValue(drawPairs(rng, domain, false)),
});
