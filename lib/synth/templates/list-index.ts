import { registerTemplate } from './registry.ts';
import { distinctValues, lookupAnswerRange } from './values.ts';

export const ORDINALS = ['first', 'second', 'third', 'fourth', 'fifth', 'sixth'] as const;

/** "list 37 5 81 . which is third ?" -> "81" (no ":" after "list": "hint : V" owns that cue) */
registerTemplate({
  name: 'list-index',
  description: 'a list of numbers, then ask for the item at an ordinal position',
  words: ['list', '.', 'which', 'is', '?', ...ORDINALS],
  maxItems: ORDINALS.length,
  answerRange: lookupAnswerRange,
  draw(rng, domain) {
    const count = rng.int(domain.items.min, domain.items.max);
    const values = distinctValues(rng, domain, count);
    const asked = rng.int(0, count - 1);
    return {
      context: `list ${values.join(' ')} .`,
      question: `which is ${ORDINALS[asked]} ?`,
      answer: values[asked],
    };
  },
});
