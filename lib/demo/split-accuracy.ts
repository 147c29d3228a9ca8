import { answerAccuracy, getChecker } from '../eval/index.ts';
import type { CausalLM } from '../models/types.ts';
import type { SynthSample } from '../synth/index.ts';
import type { TextTokenizer } from '../text/types.ts';
import { EVAL_BATCH, MAX_NEW_TOKENS } from './stages.ts';

export interface SplitAccuracy {
  n: number;
  /** Greedy answer right by the numeric checker. */
  accuracy: number;
  /** Among samples with a distractor: the answer equals the distractor's number (the shortcut taken). */
  copiesDistractor: number | null;
}

/**
 * Accuracy of a model on synth samples, plus how often it answers with the distractor's number:
 * on the shortcut-broken split that is the signature of a model that learnt the shortcut.
 */
export function splitAccuracy(model: CausalLM, tokenizer: TextTokenizer, samples: readonly SynthSample[], options: { batchSize?: number } = {}): SplitAccuracy {
  const predictions = answerAccuracy(
    model,
    tokenizer,
    samples.map((s) => ({ id: s.id, instruction: s.instruction, input: '', answer: s.answer })),
    getChecker('numeric'),
    { maxNewTokens: MAX_NEW_TOKENS, batchSize: options.batchSize ?? EVAL_BATCH },
  );
  const numeric = getChecker('numeric');
  const withDistractor = samples.map((s, i) => ({ s, p: predictions[i] })).filter(({ s }) => s.distractor_value !== '');
  const copies = withDistractor.filter(({ s, p }) => numeric.check(p.prediction, s.distractor_value)).length;
  return {
    n: samples.length,
    accuracy: predictions.filter((p) => p.correct).length / samples.length,
    copiesDistractor: withDistractor.length ? copies / withDistractor.length : null,
  };
}
