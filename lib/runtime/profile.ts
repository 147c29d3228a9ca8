// LEAF_PROFILE=1: wall time per tfjs kernel and per native-addon call, printed (top 15 of each by
// total time) to stderr when the process exits. Kernel times include the native calls they make;
// gradient kernels are kernels too, so a backward pass shows up under the kernels it runs.
import type { KernelFunc } from '@tensorflow/tfjs-core';

interface Tally {
  calls: number;
  ms: number;
}

const TOP = 15;
const tallies = { kernel: new Map<string, Tally>(), native: new Map<string, Tally>() };
let reporting = false;

export function profilingEnabled(): boolean {
  return process.env.LEAF_PROFILE === '1';
}

function record(kind: keyof typeof tallies, name: string, ms: number): void {
  const tally = tallies[kind].get(name);
  if (tally) {
    tally.calls++;
    tally.ms += ms;
  } else tallies[kind].set(name, { calls: 1, ms });
  if (!reporting) {
    reporting = true;
    process.once('exit', () => process.stderr.write(profileReport()));
  }
}

function timed<A extends unknown[], R>(kind: keyof typeof tallies, name: string, fn: (...args: A) => R): (...args: A) => R {
  return (...args: A) => {
    const start = performance.now();
    try {
      return fn(...args);
    } finally {
      record(kind, name, performance.now() - start);
    }
  };
}

/** The kernel, timed under its name when profiling is on. */
export function profiledKernel(kernelName: string, kernelFunc: KernelFunc): KernelFunc {
  return profilingEnabled() ? timed('kernel', kernelName, kernelFunc) : kernelFunc;
}

/** The addon with every function timed under its name when profiling is on. */
export function profiledAddon<T extends object>(addon: T): T {
  if (!profilingEnabled()) return addon;
  const wrapped: Record<string, unknown> = {};
  // Node-API properties are not enumerable: list them by name.
  for (const name of Object.getOwnPropertyNames(addon)) {
    const value = (addon as Record<string, unknown>)[name];
    wrapped[name] = typeof value === 'function' ? timed('native', name, value as (...args: unknown[]) => unknown) : value;
  }
  return wrapped as T;
}

/** The top entries of both tables, as text. */
export function profileReport(): string {
  const table = (title: string, entries: Map<string, Tally>) => {
    const total = [...entries.values()].reduce((sum, t) => sum + t.ms, 0);
    const rows = [...entries.entries()].sort((a, b) => b[1].ms - a[1].ms).slice(0, TOP);
    return [
      `LEAF_PROFILE ${title}: ${(total / 1000).toFixed(2)} s in ${entries.size} names (top ${rows.length} by time)`,
      ...rows.map(([name, t]) => `  ${name.padEnd(28)} ${(t.ms / 1000).toFixed(3).padStart(9)} s ${((100 * t.ms) / (total || 1)).toFixed(1).padStart(5)} % ${String(t.calls).padStart(8)} calls`),
    ].join('\n');
  };
  return `${table('tfjs kernels', tallies.kernel)}\n${table('native calls', tallies.native)}\n`;
}
