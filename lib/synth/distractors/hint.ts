import { registerDistractorKind } from './registry.ts';

/** The most salient shortcut: a labelled number right before the question. */
registerDistractorKind({
  name: 'hint',
  description: '"hint : V ." right before the question',
  placement: 'before-question',
  words: ['hint', ':', '.'],
  render: (value) => `hint : ${value} .`,
});
