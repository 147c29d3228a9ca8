/** Task families registry: one file per family, each imported here once ('shipped' first: the others derive from it). */
import './shipped.ts';
import './far.ts';
import './multi.ts';
import { families, type TaskFamily } from './registry.ts';

export type { TaskFamily } from './registry.ts';

export function getFamily(name: string): TaskFamily {
  return families.get(name);
}

export function listFamilies(): TaskFamily[] {
  return families.list();
}
