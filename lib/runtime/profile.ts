// LEAF_PROFILE=1: wall time per tfjs kernel and per native-addon call, printed (top 15 of each by
// total time) to stderr when the process exits. Kernel times include the native calls they make;
// gradient kernels are kernels too, so a backward pass shows up under the kernels it runs. GEMMs
// are also tallied by shape (m×n×k, transposes, batch) with their rate, since a GEMM's speed
// depends on its shape far more than on how often it runs.
import type { KernelFunc } from '@tensorflow/tfjs-core';

interface Tally {
  calls: number;
  ms: number;
  /** CPU time of the whole process (every thread) during the calls: on a loaded machine wall time mostly measures the others. */
  cpuMs: number;
  flops: number;
}

const TOP = 15;
const tallies = { kernel: new Map<string, Tally>(), native: new Map<string, Tally>(), gemm: new Map<string, Tally>() };
let reporting = false;

export function profilingEnabled(): boolean {
  return process.env.LEAF_PROFILE === '1';
}

function record(kind: keyof typeof tallies, name: string, ms: number, cpuMs: number, flops = 0): void {
  const tally = tallies[kind].get(name);
  if (tally) {
    tally.calls++;
    tally.ms += ms;
    tally.cpuMs += cpuMs;
    tally.flops += flops;
  } else tallies[kind].set(name, { calls: 1, ms, cpuMs, flops });
  if (!reporting) {
    reporting = true;
    process.once('exit', () => process.stderr.write(profileReport()));
  }
}

/** A GEMM call's shape and floating-point operations, read from its arguments. */
type GemmShape = (args: unknown[]) => { shape: string; flops: number };

// Argument positions as declared in NativeAddon (lib/runtime/native/addon.ts).
const GEMM_SHAPES: Record<string, GemmShape> = {
  sgemmBatched: ([, , , m, n, k, ta, tb, aIndex]) => {
    const [M, N, K, batch] = [m, n, k, (aIndex as Int32Array).length] as number[];
    return { shape: `sgemm ${M}×${N}×${K}${ta ? ' Aᵀ' : ''}${tb ? ' Bᵀ' : ''}${batch > 1 ? ` ×${batch}` : ''}`, flops: 2 * M * N * K * batch };
  },
  halfGemm: ([, m, k, , rows, cols, tw]) => {
    const [M, K, N] = [m, k, tw ? rows : cols] as number[];
    return { shape: `halfGemm ${M}×${N}×${K}${tw ? ' Wᵀ' : ''}`, flops: 2 * M * N * K };
  },
};

function timed<A extends unknown[], R>(kind: keyof typeof tallies, name: string, fn: (...args: A) => R): (...args: A) => R {
  const gemm = kind === 'native' ? GEMM_SHAPES[name] : undefined;
  return (...args: A) => {
    const start = performance.now();
    const cpuStart = process.cpuUsage();
    try {
      return fn(...args);
    } finally {
      const ms = performance.now() - start;
      const cpu = process.cpuUsage(cpuStart);
      const cpuMs = (cpu.user + cpu.system) / 1000;
      record(kind, name, ms, cpuMs);
      if (gemm) {
        const { shape, flops } = gemm(args);
        record('gemm', shape, ms, cpuMs, flops);
      }
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
    const perCpu = (t: Tally) => (t.cpuMs > 0 ? (t.flops / t.cpuMs / 1e6).toFixed(1) : 'n/a');
    const rate = (t: Tally) => (t.flops ? ` ${(t.flops / t.ms / 1e6).toFixed(1).padStart(7)} GFLOP/s, ${perCpu(t).padStart(6)} per CPU-second` : '');
    return [
      `LEAF_PROFILE ${title}: ${(total / 1000).toFixed(2)} s (${([...entries.values()].reduce((sum, t) => sum + t.cpuMs, 0) / 1000).toFixed(2)} CPU-s) in ${entries.size} names (top ${rows.length} by time)`,
      ...rows.map(([name, t]) => `  ${name.padEnd(28)} ${(t.ms / 1000).toFixed(3).padStart(9)} s ${((100 * t.ms) / (total || 1)).toFixed(1).padStart(5)} % ${(t.cpuMs / 1000).toFixed(3).padStart(9)} CPU-s ${String(t.calls).padStart(8)} calls${rate(t)}`),
    ].join('\n');
  };
  const gemms = tallies.gemm.size ? `${table('GEMM shapes', tallies.gemm)}\n` : '';
  return `${table('tfjs kernels', tallies.kernel)}\n${table('native calls', tallies.native)}\n${gemms}`;
}
