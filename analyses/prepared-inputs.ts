// What the PyTorch references are fed: the token ids, targets and scored positions leaf itself
// prepares for each sample (grad-l2, instruction level), so both sides do the same work.
import { prepareSample, type ModelSide, type ScoringSettings } from '../lib/analyze/index.ts';
import { getAttributionMethod } from '../lib/attribution/index.ts';
import { resolveRule } from '../lib/confounders/index.ts';
import { readCorpus } from '../lib/corpus/index.ts';
import type { CausalLM } from '../lib/models/types.ts';
import { renderChat, tokenizeChat, type TextTokenizer } from '../lib/text/index.ts';

/** A side for sample preparation only, rendering with `tokenizer`'s own chat template. */
export function chatSide(tokenizer: TextTokenizer, role: ModelSide['role']): ModelSide {
  return {
    role,
    model: undefined as unknown as CausalLM, // preparation never touches the model
    tokenizer,
    tokenize: (user, response) => tokenizeChat(tokenizer, renderChat(tokenizer, user, response)),
    padId: 0,
  };
}

/** The student's prepared input of every sample of `data` (teacher and student share `tokenizer`). */
export async function preparedInputs(tokenizer: TextTokenizer, data: string, maxLength: number) {
  const settings: ScoringSettings = {
    method: getAttributionMethod('grad-l2'),
    methodOptions: { batchSize: 1, igSteps: 1, igAggregate: 'l2' },
    level: 'instruction',
    segments: 2,
    length: { maxLength, onLong: 'skip' },
    rule: resolveRule('percentile'),
    responseRule: resolveRule('percentile'),
  };
  const corpus = await readCorpus(data);
  return corpus.samples.map((sample) => {
    const ready = prepareSample(sample, chatSide(tokenizer, 'teacher'), chatSide(tokenizer, 'student'), settings);
    if (!('layout' in ready)) throw new Error(ready.skipped);
    return ready.student.input;
  });
}
