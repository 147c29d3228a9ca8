/** Executors registry. Adding one = one file that calls registerExecutor, plus its import line here. */
import './slurm.ts';
import './k8s.ts';
import { lookupExecutor, registeredExecutors } from './registry.ts';

export { lookupExecutor as getExecutor };
export const executorNames = (): string[] => registeredExecutors().map((executor) => executor.name);
export const describeExecutors = (): string => registeredExecutors().map((executor) => `${executor.name}: ${executor.description}`).join('; ');
