import { registerTemplate } from './registry.ts';
import { drawPairs, lookupAnswerRange } from './values.ts';
import { KV_WORDS, renderKeyValue } from './kv-lookup.ts';

/**
 * "a = 37 b = 5 c = 81 ; what is b ?" -> "5", keys always a, b, c, ... in order: the key names a
 * position, so the rule is positional like `list-index`. Small models learn it in hundreds of
 * steps, where shuffled keys (`kv-lookup`) need an induction circuit that forms much later.
 */
registerTemplate({
  name: 'kv-ordered',
  description: 'key = value pairs with keys a, b, c, ... in order, then ask for one key',
  words: KV_WORDS,
  maxItems: 8,
  answerRange: lookupAnswerRange,
  draw: (rng, domain) => renderKeyValue(drawPairs(rng, domain, true)),
});
