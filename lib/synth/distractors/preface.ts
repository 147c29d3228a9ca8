import { registerDistractorKind } from './registry.ts';

/** A clause opening the instruction, in the words of `guess`: the same shortcut, far from the question. */
registerDistractorKind({
  name: 'preface',
  description: '"i guess V ;" at the start of the instruction',
  placement: 'start',
  words: ['i', 'guess', ';'],
  render: (value) => `i guess ${value} ;`,
});
