import { Registry } from '../registry.ts';
import type { DistractorKind } from '../types.ts';

export const distractorKinds = new Registry<DistractorKind>('distractor kind');

export function registerDistractorKind(kind: DistractorKind): void {
  distractorKinds.register(kind);
}
