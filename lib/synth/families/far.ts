import { families, registerFamily } from './registry.ts';

const shipped = families.get('shipped').options;

/**
 * Long context, distractor far from the question: 5-6 facts (positional rules only: a digit sum
 * has no long context) and the distractor always opens the instruction, ~20 words before the
 * question, so a detector cannot rely on the distractor sitting next to what the answer reads.
 */
registerFamily({
  name: 'far',
  description: 'one distractor at the start of a long instruction (tag "[ V ]" or preface "i guess V ;"), 5-6 facts, far from the question',
  options: { ...shipped, items: { min: 5, max: 6 }, templates: ['kv-ordered', 'list-index'], distractorKinds: ['tag', 'preface'] },
});
