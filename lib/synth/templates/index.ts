/** Task templates registry: one file per template, each imported here once. */
import './kv-lookup.ts';
import './kv-ordered.ts';
import './kv-sentence.ts';
import './list-index.ts';
import './add.ts';
import { templates } from './registry.ts';
import type { TaskTemplate } from '../types.ts';

export function getTemplate(name: string): TaskTemplate {
  return templates.get(name);
}

export function listTemplates(): TaskTemplate[] {
  return templates.list();
}
