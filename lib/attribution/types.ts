import type { CausalLM } from '../models/types.ts';

/** Token ids of one sample and which of its tokens are supervised. */
export interface LossInput {
  ids: number[];
  /** Indices of the tokens whose mean NLL is the loss; each ≥ 1 (position i−1 predicts token i). */
  targets: number[];
}

/** What occlusion may remove: a whitespace-delimited word, or a multi-word phrase (clause, bracketed group). */
export type UnitKind = 'word' | 'phrase';

/** Removing one unit (a word or phrase of an analysed region) from a sample, for occlusion. */
export interface OcclusionUnit {
  kind?: UnitKind;
  /** The unit's text (units with equal text are copies of one another). */
  text?: string;
  /** Indices of the original sample's tokens that overlap the unit: they receive its score. */
  tokens: number[];
  /** The sample re-rendered and re-tokenised without the unit. */
  variant: LossInput;
}

/** One sample prepared for one model. */
export interface ScoringInput extends LossInput {
  /** Indices of the tokens whose scores are read (the analysed regions). */
  scored: number[];
  /**
   * Units occlusion removes, each with its re-rendered sample (prepared only for methods that need
   * them). Units are listed in the same order for teacher and student: unit k is the same text.
   */
  occlusionUnits?: OcclusionUnit[];
  /** The sample re-rendered without several of its occlusion units at once (indices into occlusionUnits; they must not overlap). */
  without?(units: number[]): LossInput;
}

export interface TokenScores {
  /** One score per token of the sample (0 for tokens the method does not score). */
  scores: Float32Array;
  /** Mean response NLL of the unmodified sample. */
  loss: number;
}

export interface MethodOptions {
  /** Pad id for batching (any valid id: padded positions are masked out). */
  padId: number;
  /** Largest number of sequences in one forward pass (occlusion batches its variants by it). */
  batchSize: number;
  /** Integrated gradients: Riemann steps on the path from the baseline. */
  igSteps: number;
  /** Integrated gradients: per-token L2 norm of the attribution vector, or |sum| of its components. */
  igAggregate: 'l2' | 'sum';
}

/**
 * An attribution method: per-token scores of a batch of samples for one model. Scores must not
 * depend on which other samples share the batch.
 */
export interface AttributionMethod {
  readonly name: string;
  readonly description: string;
  /** Which ScoringInput.occlusionUnits (re-rendered samples) the method needs; none when absent. */
  readonly occlusionUnits?: readonly UnitKind[];
  /**
   * How analysis compares the two models' scores. "normalized" (default, the paper): each side
   * min-max normalised, Δ = ĝ_T − ĝ_S. "raw": the scores share a unit (loss changes in nats), so
   * Δ = s_T − s_S is taken as is, then min-max normalised to [0, 1] for the threshold rules.
   */
  readonly comparison?: 'normalized' | 'raw';
  /** Keeps both models' keys and values of a batch while it scores shortened samples (the memory pre-flight counts them). */
  readonly keepsKeyValues?: boolean;
  /** One model's scores. */
  score(model: CausalLM, inputs: ScoringInput[], options: MethodOptions): TokenScores[];
  /**
   * Both models at once, for methods that decide what to measure from both (analysis calls it
   * instead of score() when present); inputs[b] is one sample as each model sees it.
   */
  scorePair?(teacher: CausalLM, student: CausalLM, inputs: PairInput[], options: PairOptions): { teacher: TokenScores[]; student: TokenScores[] };
}

export interface PairInput {
  teacher: ScoringInput;
  student: ScoringInput;
}

export interface PairOptions extends Omit<MethodOptions, 'padId'> {
  teacherPadId: number;
  studentPadId: number;
}
