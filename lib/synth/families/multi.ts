import { families, registerFamily } from './registry.ts';

const shipped = families.get('shipped').options;

/**
 * Several distractors per sample, of different kinds and places, all showing the same value: a
 * detector must find every copy (removing one leaves the others to copy from), and a student can
 * learn the shortcut from any of them.
 */
registerFamily({
  name: 'multi',
  description: '2-3 distractors per sample, each of a different kind (hint, guess, tag, aside), same value',
  options: { ...shipped, distractorsPerSample: { min: 2, max: 3 } },
});
