import type { AttributionRow } from '../corpus/types.ts';
import { regionAttentionMass } from '../eval/index.ts';
import type { CausalLM } from '../models/types.ts';
import type { SynthSample } from '../synth/index.ts';
import type { TextTokenizer } from '../text/types.ts';

export interface PlantedAttention {
  /** Mean over samples of (attention on the distractor's tokens) / (attention on the instruction's tokens). */
  ratio: number | null;
  /** Mean share of instruction tokens that are distractor tokens: what uniform attention would give. */
  tokenFraction: number | null;
  samples: number;
}

/** The planted distractor as an attribution row flagging exactly its span (what lib/eval's metric reads). */
function plantedRow(sample: SynthSample): AttributionRow {
  return {
    id: sample.id, region: 'instruction', text: sample.instruction, tokens: [], char_start: [], char_end: [],
    teacher_score: [], student_score: [], teacher_norm: [], student_norm: [], delta: [], flagged: [],
    spans: sample.distractor_spans, teacher_loss: 0, student_loss: 0, threshold: 0,
  };
}

const mean = (values: number[]) => (values.length ? values.reduce((a, b) => a + b, 0) / values.length : null);

/**
 * `leaf eval`'s attention-mass metric measured on the planted distractor instead of on flagged
 * spans: the share of the instruction's attention (response positions, mean over layers and heads)
 * that goes to the distractor. Comparable across models and tokenizers; samples without a
 * distractor are left out.
 */
export function plantedAttention(model: CausalLM, tokenizer: TextTokenizer, samples: readonly SynthSample[]): PlantedAttention {
  const masses = samples
    .filter((s) => s.distractor_spans.length > 0)
    .map((s) => regionAttentionMass(model, tokenizer, { id: s.id, instruction: s.instruction, input: '', output: s.output }, plantedRow(s)));
  return {
    ratio: mean(masses.map((m) => m.ratio)),
    tokenFraction: mean(masses.map((m) => m.flaggedTokens / m.regionTokens)),
    samples: masses.length,
  };
}
