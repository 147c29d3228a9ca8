import type { CausalLM } from '../models/types.ts';

/** Token ids of one sample and which of its tokens are supervised. */
export interface LossInput {
  ids: number[];
  /** Indices of the tokens whose mean NLL is the loss; each ≥ 1 (position i−1 predicts token i). */
  targets: number[];
}

/** Removing one unit (a word of an analysed region) from a sample, for occlusion. */
export interface OcclusionUnit {
  /** Indices of the original sample's tokens that overlap the unit: they receive its score. */
  tokens: number[];
  /** The sample re-rendered and re-tokenised without the unit. */
  variant: LossInput;
}

/** One sample prepared for one model. */
export interface ScoringInput extends LossInput {
  /** Indices of the tokens whose scores are read (the analysed regions). */
  scored: number[];
  /** Units occlusion removes, each with its re-rendered sample (prepared only for methods that need them). */
  occlusionUnits?: OcclusionUnit[];
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
  /** Whether the method needs ScoringInput.occlusionUnits (re-rendered samples). */
  readonly needsOcclusionUnits?: boolean;
  score(model: CausalLM, inputs: ScoringInput[], options: MethodOptions): TokenScores[];
}
