import { registerDistractorKind } from './registry.ts';

/** Far from the question, so detectors are tested on a distractor that is not next to the target. */
registerDistractorKind({
  name: 'tag',
  description: '"[ V ]" at the start of the instruction',
  placement: 'start',
  words: ['[', ']'],
  render: (value) => `[ ${value} ]`,
});
