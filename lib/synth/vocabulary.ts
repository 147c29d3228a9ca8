import { KEYS } from './options.ts';
import { listTemplates } from './templates/index.ts';
import { listDistractorKinds } from './distractors/index.ts';

/**
 * Every non-number token any registered template or distractor kind can emit, in registration
 * order. Tokenizers cover all of them, so one tokenizer pair serves every template selection.
 */
export function synthWords(): string[] {
  const words = new Set<string>(KEYS);
  for (const part of [...listTemplates(), ...listDistractorKinds()]) for (const word of part.words) words.add(word);
  return [...words];
}

/** The numbers 0..maxValue as strings. */
export function synthNumbers(maxValue: number): string[] {
  return Array.from({ length: maxValue + 1 }, (_, n) => String(n));
}
