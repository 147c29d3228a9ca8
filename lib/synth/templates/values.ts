import type { Rng } from '../rng.ts';
import type { Domain } from '../types.ts';

/**
 * `count` distinct values in 0..maxValue. Distinct, so the answer's value occurs exactly once among
 * the facts and the only other copy of it in an instruction is the distractor's.
 */
export function distinctValues(rng: Rng, domain: Domain, count: number): number[] {
  if (count > domain.maxValue + 1) throw new Error(`cannot draw ${count} distinct values from 0..${domain.maxValue}`);
  const values = new Set<number>();
  while (values.size < count) values.add(rng.int(0, domain.maxValue));
  return [...values];
}

/** Facts of a key-value problem and the index of the key asked for. */
export interface Pairs {
  keys: string[];
  values: number[];
  asked: number;
}

/** `ordered`: keys are a, b, c, ... in order (the key names a position) instead of a random subset in random order. */
export function drawPairs(rng: Rng, domain: Domain, ordered: boolean): Pairs {
  const count = rng.int(domain.items.min, domain.items.max);
  const keys = ordered ? domain.keys.slice(0, count) : rng.sample(domain.keys, count);
  const values = distinctValues(rng, domain, count);
  return { keys, values, asked: rng.int(0, count - 1) };
}

/** Any value 0..maxValue can be the answer of a lookup. */
export const lookupAnswerRange = (domain: Domain) => ({ min: 0, max: domain.maxValue });
