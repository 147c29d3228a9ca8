import { Registry } from '../registry.ts';
import type { TaskTemplate } from '../types.ts';

export const templates = new Registry<TaskTemplate>('synth template');

export function registerTemplate(template: TaskTemplate): void {
  templates.register(template);
}
