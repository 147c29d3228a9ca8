import { registerTemplate } from './registry.ts';
import type { Domain } from '../types.ts';

/** Operands stay single digits so the rule is a 10 x 10 table a tiny model can learn. */
const MAX_OPERAND = 9;

const operandLimit = (domain: Domain) => Math.min(MAX_OPERAND, Math.floor(domain.maxValue / 2));

/** "take 3 and 4 . what is the sum ?" -> "7" */
registerTemplate({
  name: 'add',
  description: 'two single-digit operands (capped so the sum stays within maxValue), ask for their sum',
  words: ['take', 'and', '.', 'what', 'is', 'the', 'sum', '?'],
  maxItems: Infinity,
  answerRange: (domain) => ({ min: 0, max: 2 * operandLimit(domain) }),
  draw(rng, domain) {
    const limit = operandLimit(domain);
    const a = rng.int(0, limit);
    const b = rng.int(0, limit);
    return { context: `take ${a} and ${b} .`, question: 'what is the sum ?', answer: a + b };
  },
});
