import { Rng, streamSeed } from './rng.ts';
import { KEYS, resolveSynthOptions, type SynthOptions, type SynthOptionsInput } from './options.ts';
import { SPLIT_POLICIES } from './splits.ts';
import { getTemplate } from './templates/index.ts';
import { getDistractorKind } from './distractors/index.ts';
import { SPLIT_NAMES, type DistractorKind, type Problem, type SplitName, type SynthSample, type SynthSpan } from './types.ts';

/** The instruction of a problem with an optional distractor, and where the distractor landed. */
export function composeInstruction(
  problem: Problem,
  distractor?: { kind: DistractorKind; value: string },
): { instruction: string; span?: SynthSpan } {
  const text = distractor?.kind.render(distractor.value);
  const at = distractor?.kind.placement;
  const parts: { text: string; planted: boolean }[] = [];
  if (text !== undefined && at === 'start') parts.push({ text, planted: true });
  parts.push({ text: problem.context, planted: false });
  if (text !== undefined && at === 'before-question') parts.push({ text, planted: true });
  parts.push({ text: problem.question, planted: false });
  if (text !== undefined && at === 'end') parts.push({ text, planted: true });

  let instruction = '';
  let span: SynthSpan | undefined;
  for (const part of parts) {
    if (instruction) instruction += ' ';
    if (part.planted) span = { start: instruction.length, end: instruction.length + part.text.length };
    instruction += part.text;
  }
  return { instruction, span };
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
    const kind = shown === undefined ? undefined : getDistractorKind(rng.pick(options.distractorKinds));
    const value = shown === undefined ? '' : String(shown);
    const { instruction, span } = composeInstruction(problem, kind && { kind, value });
    const answer = String(problem.answer);
    samples.push({
      id: sampleId(split, index),
      instruction,
      output: answer,
      answer,
      distractor_spans: span ? [span] : [],
      distractor_text: span ? instruction.slice(span.start, span.end) : '',
      distractor_value: value,
      split,
      template: template.name,
      distractor_kind: kind?.name ?? 'none',
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
