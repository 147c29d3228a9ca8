import type { Executor } from '../types.ts';

const executors = new Map<string, Executor>();

/** Called once by each executor's module; a second executor under the same name is a bug. */
export function registerExecutor(executor: Executor): void {
  if (executors.has(executor.name)) throw new Error(`executor "${executor.name}" is registered twice`);
  executors.set(executor.name, executor);
}

export function lookupExecutor(name: string): Executor {
  const executor = executors.get(name);
  if (!executor) throw new Error(`unknown executor "${name}"; available: ${[...executors.keys()].join(', ')}`);
  return executor;
}

export function registeredExecutors(): Executor[] {
  return [...executors.values()];
}
