import type { Rng } from './rng.ts';

/** Character span [start, end) into a sample's instruction. */
export interface SynthSpan {
  start: number;
  end: number;
}

/**
 * The held-out and training splits. Each one fixes how a sample's distractor relates to its answer
 * (see splits.ts): that relation is the planted spurious correlation.
 */
export const SPLIT_NAMES = ['train-student', 'train-teacher', 'train-distill', 'test', 'clean'] as const;
export type SplitName = (typeof SPLIT_NAMES)[number];

/** One generated sample, as written to JSONL (field names are the corpus readers' defaults). */
export interface SynthSample {
  id: string;
  instruction: string;
  /** Reference response: the answer alone. */
  output: string;
  answer: string;
  /** Ground truth: where the planted distractors lie in `instruction`, in text order (empty on clean samples). */
  distractor_spans: SynthSpan[];
  /** `instruction.slice(span)` of each distractor, joined by " | " ("" when none). */
  distractor_text: string;
  /** The number the distractor shows ("" when none); equal to `answer` when the shortcut works. */
  distractor_value: string;
  split: SplitName;
  template: string;
  /** Name of the distractor kind ("+"-joined, in draw order, when several), "none" on clean samples. */
  distractor_kind: string;
}

/** What a template draws: the facts the rule reads, the question, and the answer the rule gives. */
export interface Problem {
  context: string;
  question: string;
  answer: number;
}

/** The numbers and names a template may use. */
export interface Domain {
  /** Values are the integers 0..maxValue. */
  maxValue: number;
  /** Number of facts (key-value pairs, list items) per problem, drawn in [min, max]. */
  items: { min: number; max: number };
  keys: readonly string[];
}

/** A family of problems with one rule; its instruction text is `context question`. */
export interface TaskTemplate {
  readonly name: string;
  readonly description: string;
  /** Every word and punctuation token it may emit, besides keys and numbers (builds the vocabularies). */
  readonly words: readonly string[];
  /** Largest `items.max` the template supports. */
  readonly maxItems: number;
  /**
   * The answers it can give. Distractors show values from this range too, so a wrong value is
   * never recognisable as impossible (a sum of two digits never shows 57).
   */
  answerRange(domain: Domain): { min: number; max: number };
  draw(rng: Rng, domain: Domain): Problem;
}

/** Where in the instruction a distractor goes. */
export type Placement = 'start' | 'before-question' | 'end';

/** A kind of distractor: a short phrase showing one number, irrelevant to the rule. */
export interface DistractorKind {
  readonly name: string;
  readonly description: string;
  readonly placement: Placement;
  readonly words: readonly string[];
  render(value: string): string;
}
