import { registerDistractorKind } from './registry.ts';

registerDistractorKind({
  name: 'guess',
  description: '"i guess V ." right before the question',
  placement: 'before-question',
  words: ['i', 'guess', '.'],
  render: (value) => `i guess ${value} .`,
});
