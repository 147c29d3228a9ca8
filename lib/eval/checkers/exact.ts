import { registerChecker } from './registry.ts';

registerChecker({
  name: 'exact',
  description: 'prediction equals the answer after trimming surrounding whitespace (case-sensitive)',
  check(prediction, answer) {
    return prediction.trim() === answer.trim();
  },
});
