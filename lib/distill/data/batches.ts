import type { Prng } from './prng.ts';

/** How many shuffled rows are sorted together by length before cutting micro-batches. */
const BUCKET_WINDOW_BATCHES = 50;

/**
 * Micro-batches of one epoch: rows shuffled, sorted by length within windows of
 * BUCKET_WINDOW_BATCHES batches (so a batch pads little yet the order stays random), cut into
 * batches of `batchSize`, and the batches shuffled again.
 */
export function planEpoch(rowIndices: readonly number[], lengths: readonly number[], batchSize: number, prng: Prng): number[][] {
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`batch size must be a positive integer, got ${batchSize}`);
  const order = prng.shuffle([...rowIndices]);
  const window = batchSize * BUCKET_WINDOW_BATCHES;
  const batches: number[][] = [];
  for (let start = 0; start < order.length; start += window) {
    const sorted = order.slice(start, start + window).sort((a, b) => lengths[b] - lengths[a] || a - b);
    for (let i = 0; i < sorted.length; i += batchSize) batches.push(sorted.slice(i, i + batchSize));
  }
  return prng.shuffle(batches);
}

/** Consecutive groups of `accumulation` micro-batches: the micro-batches of each optimizer step. */
export function groupSteps(microBatches: number[][], accumulation: number): number[][][] {
  const steps: number[][][] = [];
  for (let i = 0; i < microBatches.length; i += accumulation) steps.push(microBatches.slice(i, i + accumulation));
  return steps;
}
