import { registerDistractorKind } from './registry.ts';

registerDistractorKind({
  name: 'aside',
  description: '"( V )" after the question, the last thing before the response',
  placement: 'end',
  words: ['(', ')'],
  render: (value) => `( ${value} )`,
});
