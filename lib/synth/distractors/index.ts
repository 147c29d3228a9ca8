/** Distractor kinds registry: one file per kind, each imported here once. */
import './hint.ts';
import './guess.ts';
import './tag.ts';
import './aside.ts';
import './preface.ts';
import { distractorKinds } from './registry.ts';
import type { DistractorKind } from '../types.ts';

export function getDistractorKind(name: string): DistractorKind {
  return distractorKinds.get(name);
}

export function listDistractorKinds(): DistractorKind[] {
  return distractorKinds.list();
}
