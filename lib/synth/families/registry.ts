import { Registry } from '../registry.ts';
import type { SynthOptionsInput } from '../options.ts';

/**
 * A planted-confounder task family: every generator option pinned (a change of lib/synth's defaults
 * must not silently change a family whose models were trained on it), and what makes its
 * distractors different from the other families'.
 */
export interface TaskFamily {
  readonly name: string;
  readonly description: string;
  readonly options: SynthOptionsInput & Required<Pick<SynthOptionsInput, 'seed' | 'maxValue' | 'items' | 'templates' | 'distractorKinds' | 'distractorsPerSample'>>;
}

export const families = new Registry<TaskFamily>('task family');

export function registerFamily(family: TaskFamily): void {
  families.register(family);
}
