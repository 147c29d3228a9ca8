import type { Sample } from './types.ts';

/** Separator between `instruction` and `input` in the user message (the Alpaca convention). */
export const INPUT_SEPARATOR = '\n\n';

/** The user message a model sees for a sample. */
export function userMessage(sample: Pick<Sample, 'instruction' | 'input'>): string {
  return sample.input ? sample.instruction + INPUT_SEPARATOR + sample.input : sample.instruction;
}
