import { Rng, streamSeed } from './rng.ts';
import { KEYS, resolveSynthOptions, type SynthOptions, type SynthOptionsInput } from './options.ts';
import { SPLIT_POLICIES } from './splits.ts';
import { getTemplate } from './templates/index.ts';
import { getDistractorKind } from './distractors/index.ts';
import { SPLIT_NAMES, type DistractorKind, type Placement, type Problem, type SplitName, type SynthSample, type SynthSpan } from './types.ts';

/**
 * The instruction of a problem with its distractors (none, one or several; those sharing a
 * placement keep their order), and where each distractor landed, in instruction order.
 */
export function composeInstruction(
  problem: Problem,
  distractors: readonly { kind: DistractorKind; value: string }[] = [],
): { instruction: string; spans: SynthSpan[] } {
  const planted = (at: Placement) => distractors.filter((d) => d.kind.placement === at).map((d) => ({ text: d.kind.render(d.value), planted: true }));
  const parts: { text: string; planted: boolean }[] = [
    ...planted('start'),
    { text: problem.context, planted: false },
    ...planted('before-question'),
    { text: problem.question, planted: false },
    ...planted('end'),
  ];
  let instruction = '';
  const spans: SynthSpan[] = [];
  for (const part of parts) {
    if (instruction) instruction += ' ';
    if (part.planted) spans.push({ start: instruction.length, end: instruction.length + part.text.length });
    instruction += part.text;
  }
  return { instruction, spans };
}

/** The kinds of one sample's distractors: one drawn as before (keeps single-distractor streams unchanged), or several distinct ones. */
function drawKinds(rng: Rng, options: SynthOptions): DistractorKind[] {
  const { min, max } = options.distractorsPerSample;
  if (max === 1) return [getDistractorKind(rng.pick(options.distractorKinds))];
  return rng.sample([...new Set(options.distractorKinds)], rng.int(min, max)).map(getDistractorKind);
}

function sampleId(split: SplitName, index: number): string {
  return `${split}-${String(index).padStart(6, '0')}`;
}

function generateWith(split: SplitName, options: SynthOptions): SynthSample[] {
  const rng = new Rng(streamSeed(options.seed, split));
  const policy = SPLIT_POLICIES[split];
  const domain = { maxValue: options.maxValue, items: options.items, keys: KEYS };
  const samples: SynthSample[] = [];
  for (let index = 0; index < options.sizes[split]; index++) {
    const template = getTemplate(rng.pick(options.templates));
    const problem = template.draw(rng, domain);
    const shown = policy.distractorValue(problem.answer, rng, options, template.answerRange(domain));
    const kinds = shown === undefined ? [] : drawKinds(rng, options);
    const value = shown === undefined ? '' : String(shown);
    const { instruction, spans } = composeInstruction(problem, kinds.map((kind) => ({ kind, value })));
    const answer = String(problem.answer);
    samples.push({
      id: sampleId(split, index),
      instruction,
      output: answer,
      answer,
      distractor_spans: spans,
      distractor_text: spans.map((span) => instruction.slice(span.start, span.end)).join(' | '),
      distractor_value: value,
      split,
      template: template.name,
      distractor_kind: kinds.length ? kinds.map((k) => k.name).join('+') : 'none',
    });
  }
  return samples;
}

/** One split. Each split has its own random stream, so it does not depend on the other splits' sizes. */
export function generateSplit(split: SplitName, input: SynthOptionsInput = {}): SynthSample[] {
  return generateWith(split, resolveSynthOptions(input));
}

export function generateSynthCorpus(input: SynthOptionsInput = {}): Record<SplitName, SynthSample[]> {
  const options = resolveSynthOptions(input);
  return Object.fromEntries(SPLIT_NAMES.map((split) => [split, generateWith(split, options)])) as Record<SplitName, SynthSample[]>;
}

export interface SplitStats {
  count: number;
  /** Fraction of samples that carry a distractor. */
  distractorRate: number;
  /** Among samples with a distractor, the fraction whose distractor shows the answer (null when none has one). */
  shortcutMatchRate: number | null;
  templates: Record<string, number>;
  distractorKinds: Record<string, number>;
}

/** Measured properties of a split, recorded in the manifest so a corpus documents its own correlation. */
export function splitStats(samples: readonly SynthSample[]): SplitStats {
  const withDistractor = samples.filter((s) => s.distractor_spans.length > 0);
  const count = (key: (s: SynthSample) => string) => {
    const counts: Record<string, number> = {};
    for (const s of samples) counts[key(s)] = (counts[key(s)] ?? 0) + 1;
    return counts;
  };
  return {
    count: samples.length,
    distractorRate: samples.length ? withDistractor.length / samples.length : 0,
    shortcutMatchRate: withDistractor.length
      ? withDistractor.filter((s) => s.distractor_value === s.answer).length / withDistractor.length
      : null,
    templates: count((s) => s.template),
    distractorKinds: count((s) => s.distractor_kind),
  };
}
