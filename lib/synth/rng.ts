import { mulberry32 } from '../util/random.ts';

/**
 * Seeded randomness for the generator. Own PRNG (mulberry32) so corpora are identical across
 * Node versions and platforms, and each split draws from its own stream derived from (seed, label),
 * so resizing one split never changes the samples of another.
 */
export class Rng {
  /** Uniform in [0, 1). */
  readonly next: () => number;

  constructor(seed: number) {
    this.next = mulberry32(seed);
  }

  /** Uniform integer in [min, max], both inclusive. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('Rng.pick: no items to pick from');
    return items[Math.floor(this.next() * items.length)];
  }

  /** `count` distinct items in random order. */
  sample<T>(items: readonly T[], count: number): T[] {
    if (count > items.length) throw new Error(`Rng.sample: cannot draw ${count} distinct items from ${items.length}`);
    const pool = [...items];
    for (let i = 0; i < count; i++) {
      const j = i + Math.floor(this.next() * (pool.length - i));
      [pool[i], pool[j]] = [pool[j], pool[i]];
    }
    return pool.slice(0, count);
  }
}

/** A 32-bit seed for the stream named `label` under the user's `seed` (FNV-1a over both). */
export function streamSeed(seed: number, label: string): number {
  let hash = 0x811c9dc5;
  for (const char of `${seed}\u0000${label}`) {
    hash ^= char.codePointAt(0)!;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}
