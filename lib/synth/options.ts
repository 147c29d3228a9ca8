import { SPLIT_NAMES, type SplitName } from './types.ts';
import { getTemplate } from './templates/index.ts';
import { getDistractorKind } from './distractors/index.ts';

/** Keys of key-value templates: single letters, one token in any tokenizer. */
export const KEYS = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'] as const;

export interface SynthOptions {
  seed: number;
  /** Samples per split. */
  sizes: Record<SplitName, number>;
  /** P(distractor shows the answer) in train-student: the strength of the planted shortcut. */
  shortcutRate: number;
  /** The same for train-distill (defaults to shortcutRate: the distillation data share the student's bias). */
  distillShortcutRate: number;
  /**
   * Fraction of a training split's samples drawn without distractor. The teacher needs some
   * (default 0.2): LeaF feeds it pruned, distractor-free inputs during verification and distillation.
   */
  cleanRates: Record<TrainingSplit, number>;
  templates: string[];
  distractorKinds: string[];
  /** Values are 0..maxValue. */
  maxValue: number;
  /** Facts per problem. */
  items: { min: number; max: number };
  /** Distractors per sample with a distractor, drawn in [min, max]; each of a different kind, all showing the same value. */
  distractorsPerSample: { min: number; max: number };
}

/** Splits whose clean fraction is configurable; test (always a distractor) and clean (never) are fixed. */
export const TRAINING_SPLITS = ['train-student', 'train-teacher', 'train-distill'] as const;
export type TrainingSplit = (typeof TRAINING_SPLITS)[number];

export type SynthOptionsInput = Partial<Omit<SynthOptions, 'sizes' | 'cleanRates'>> & {
  sizes?: Partial<Record<SplitName, number>>;
  cleanRates?: Partial<Record<TrainingSplit, number>>;
};

export const DEFAULT_CLEAN_RATES: Record<TrainingSplit, number> = { 'train-student': 0, 'train-teacher': 0.2, 'train-distill': 0 };

export const DEFAULT_SIZES: Record<SplitName, number> = {
  // Base training reads each sample few times: a small corpus is memorised instead of solved.
  'train-student': 10000,
  'train-teacher': 10000,
  'train-distill': 1000,
  test: 500,
  clean: 500,
};

/**
 * Defaults aim at a ~1M-parameter model trained for minutes: positional rules over 3-4 facts and
 * a digit sum (a small teacher learns all three in ~1500 steps; shuffled-key lookups need an
 * induction circuit and stalled near chance in that budget — see README.md), a rendered sample is
 * <= 26 student / <= 38 teacher tokens, and two-digit values make the teacher's digit-splitting
 * tokenizer really differ from the student's word-level one.
 */
export const DEFAULT_SYNTH_OPTIONS: Omit<SynthOptions, 'distillShortcutRate'> = {
  seed: 0,
  sizes: DEFAULT_SIZES,
  shortcutRate: 0.9,
  cleanRates: DEFAULT_CLEAN_RATES,
  templates: ['kv-ordered', 'list-index', 'add'],
  distractorKinds: ['hint', 'guess', 'tag', 'aside'],
  maxValue: 99,
  items: { min: 3, max: 4 },
  distractorsPerSample: { min: 1, max: 1 },
};

function fail(field: string, problem: string): never {
  throw new Error(`synth options: ${field} ${problem}`);
}

function checkRate(field: string, value: number): void {
  if (!(value >= 0 && value <= 1)) fail(field, `must be in [0, 1], got ${value}`);
}

/** Fills defaults and rejects options the generator cannot honour, naming the field. */
export function resolveSynthOptions(input: SynthOptionsInput = {}): SynthOptions {
  const shortcutRate = input.shortcutRate ?? DEFAULT_SYNTH_OPTIONS.shortcutRate;
  const options: SynthOptions = {
    seed: input.seed ?? DEFAULT_SYNTH_OPTIONS.seed,
    sizes: { ...DEFAULT_SIZES, ...input.sizes },
    shortcutRate,
    distillShortcutRate: input.distillShortcutRate ?? shortcutRate,
    cleanRates: { ...DEFAULT_CLEAN_RATES, ...input.cleanRates },
    templates: [...(input.templates ?? DEFAULT_SYNTH_OPTIONS.templates)],
    distractorKinds: [...(input.distractorKinds ?? DEFAULT_SYNTH_OPTIONS.distractorKinds)],
    maxValue: input.maxValue ?? DEFAULT_SYNTH_OPTIONS.maxValue,
    items: { ...(input.items ?? DEFAULT_SYNTH_OPTIONS.items) },
    distractorsPerSample: { ...(input.distractorsPerSample ?? DEFAULT_SYNTH_OPTIONS.distractorsPerSample) },
  };
  if (!Number.isInteger(options.seed)) fail('seed', `must be an integer, got ${options.seed}`);
  for (const split of Object.keys(options.sizes)) {
    if (!(SPLIT_NAMES as readonly string[]).includes(split)) fail('sizes', `has unknown split "${split}"; splits: ${SPLIT_NAMES.join(', ')}`);
    const size = options.sizes[split as SplitName];
    if (!Number.isInteger(size) || size < 0) fail(`sizes.${split}`, `must be a non-negative integer, got ${size}`);
  }
  checkRate('shortcutRate', options.shortcutRate);
  checkRate('distillShortcutRate', options.distillShortcutRate);
  for (const [split, rate] of Object.entries(options.cleanRates)) {
    if (!(TRAINING_SPLITS as readonly string[]).includes(split)) fail('cleanRates', `has "${split}"; only ${TRAINING_SPLITS.join(', ')} take a clean fraction`);
    checkRate(`cleanRates.${split}`, rate);
  }
  // A wrong value must exist for the shortcut-broken split, and the list templates need distinct values.
  if (!Number.isInteger(options.maxValue) || options.maxValue < 9) fail('maxValue', `must be an integer >= 9, got ${options.maxValue}`);
  const { min, max } = options.items;
  if (!Number.isInteger(min) || !Number.isInteger(max) || min < 1 || max < min) {
    fail('items', `must be integers with 1 <= min <= max, got ${JSON.stringify(options.items)}`);
  }
  if (max > KEYS.length) fail('items.max', `must be <= ${KEYS.length} (number of keys), got ${max}`);
  if (options.templates.length === 0) fail('templates', 'must name at least one template');
  if (options.distractorKinds.length === 0) fail('distractorKinds', 'must name at least one distractor kind');
  const per = options.distractorsPerSample;
  if (!Number.isInteger(per.min) || !Number.isInteger(per.max) || per.min < 1 || per.min > per.max)
    fail('distractorsPerSample', `must be integers with 1 <= min <= max, got ${JSON.stringify(per)}`);
  if (per.max > new Set(options.distractorKinds).size)
    fail('distractorsPerSample.max', `must be <= the number of distinct distractor kinds (${new Set(options.distractorKinds).size}): each distractor of a sample has its own kind, got ${per.max}`);
  for (const name of options.templates) {
    const template = getTemplate(name);
    if (max > template.maxItems) fail('items.max', `must be <= ${template.maxItems} for template "${name}", got ${max}`);
  }
  for (const name of options.distractorKinds) getDistractorKind(name);
  return options;
}
