import type { Rng } from './rng.ts';
import type { SplitName } from './types.ts';
import type { SynthOptions, TrainingSplit } from './options.ts';

/** How a split's distractor relates to the answer: the planted spurious correlation. */
export interface SplitPolicy {
  readonly description: string;
  /**
   * The number the sample's distractor shows, or undefined for a sample without distractor.
   * `range`: the template's possible answers, where every shown value comes from.
   */
  distractorValue(answer: number, rng: Rng, options: SynthOptions, range: ValueRange): number | undefined;
}

export interface ValueRange {
  min: number;
  max: number;
}

/** A value in the range other than `answer`, uniformly. */
export function wrongValue(answer: number, rng: Rng, range: ValueRange): number {
  const value = rng.int(range.min, range.max - 1);
  return value >= answer ? value + 1 : value;
}

const correlated =
  (rate: (options: SynthOptions) => number): SplitPolicy['distractorValue'] =>
  (answer, rng, options, range) =>
    rng.chance(rate(options)) ? answer : wrongValue(answer, rng, range);

/** A training split's policy with its configured fraction of distractor-free samples. */
const sometimesClean =
  (split: TrainingSplit, policy: SplitPolicy['distractorValue']): SplitPolicy['distractorValue'] =>
  (answer, rng, options, range) =>
    rng.chance(options.cleanRates[split]) ? undefined : policy(answer, rng, options, range);

export const SPLIT_POLICIES: Record<SplitName, SplitPolicy> = {
  'train-student': {
    description: 'student training data: the distractor shows the answer with probability shortcutRate, else a wrong value; a cleanRates fraction has no distractor',
    distractorValue: sometimesClean('train-student', correlated((options) => options.shortcutRate)),
  },
  'train-teacher': {
    description: 'teacher training data: the distractor shows a uniform random value, independent of the answer; a cleanRates fraction (default 0.2) has no distractor',
    distractorValue: sometimesClean('train-teacher', (_answer, rng, _options, range) => rng.int(range.min, range.max)),
  },
  'train-distill': {
    description: 'distillation data: correlated as in the student\'s data (distillShortcutRate), so copying is wrong exactly where it matters; a cleanRates fraction has no distractor',
    distractorValue: sometimesClean('train-distill', correlated((options) => options.distillShortcutRate)),
  },
  test: {
    description: 'shortcut broken: the distractor always shows a wrong value',
    distractorValue: (answer, rng, _options, range) => wrongValue(answer, rng, range),
  },
  clean: {
    description: 'control: no distractor',
    distractorValue: () => undefined,
  },
};
