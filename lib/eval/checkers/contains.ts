import { registerChecker } from './registry.ts';

registerChecker({
  name: 'contains',
  description: 'the trimmed answer occurs anywhere in the prediction (plain substring, case-sensitive)',
  check(prediction, answer) {
    const needle = answer.trim();
    // An empty needle is contained in everything: every prediction would count as correct.
    if (needle === '') throw new Error('contains checker: the gold answer is empty');
    return prediction.includes(needle);
  },
});
