import type { DistillLoss } from './types.ts';

const losses = new Map<string, DistillLoss>();

export function registerLoss(loss: DistillLoss): void {
  if (losses.has(loss.name)) throw new Error(`distillation loss "${loss.name}" is registered twice`);
  losses.set(loss.name, loss);
}

export function getLoss(name: string): DistillLoss {
  const loss = losses.get(name);
  if (!loss) throw new Error(`unknown distillation loss "${name}" (known: ${listLosses().join(', ')})`);
  return loss;
}

export function listLosses(): string[] {
  return [...losses.keys()];
}
