import { registerTemplate } from './registry.ts';
import { drawPairs, lookupAnswerRange } from './values.ts';

/** "b is 5 , a is 37 , c is 81 . then a is ?" -> "37" */
registerTemplate({
  name: 'kv-sentence',
  description: 'facts as "key is value" clauses (random keys, random order), then ask for one key',
  words: ['is', ',', '.', 'then', '?'],
  maxItems: 8,
  answerRange: lookupAnswerRange,
  draw(rng, domain) {
    const { keys, values, asked } = drawPairs(rng, domain, false);
    return {
      context: keys.map((key, i) => `${key} is ${values[i]}`).join(' , ') + ' .',
      question: `then ${keys[asked]} is ?`,
      answer: values[asked],
    };
  },
});
