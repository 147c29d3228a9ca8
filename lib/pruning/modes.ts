import type { CharSpan } from '../text/types.ts';
import type { PlacedRegion } from './regions.ts';

/** A flagged span that passed --min-span-chars, in its field's coordinates. */
export interface EligibleSpan extends CharSpan {
  /** Mean Δ of the tokens it covers. */
  strength: number;
}

export interface EligibleRegion {
  region: PlacedRegion;
  spans: EligibleSpan[];
}

/** What one counterfactual will remove: spans of one region (so one field, one rule, one threshold). */
export interface CandidateSpec {
  region: PlacedRegion;
  spans: CharSpan[];
  /** Mean Δ over the removed spans: --max-per-sample keeps the lowest. */
  strength: number;
}

/** How a sample's flagged spans become counterfactuals. Adding a mode = one entry here. */
export interface PruningMode {
  readonly name: string;
  readonly description: string;
  candidates(regions: readonly EligibleRegion[]): CandidateSpec[];
}

const mean = (values: number[]) => values.reduce((sum, value) => sum + value, 0) / values.length;

export const PRUNING_MODES = {
  span: {
    name: 'span',
    description: 'one counterfactual per flagged span, removing only that span (the paper\'s choice)',
    candidates: (regions) =>
      regions.flatMap(({ region, spans }) => spans.map((span) => ({ region, spans: [{ start: span.start, end: span.end }], strength: span.strength }))),
  },
  collective: {
    name: 'collective',
    description: 'one counterfactual per analysed region removing all of its flagged spans (at instruction level: one per sample)',
    candidates: (regions) =>
      regions
        .filter(({ spans }) => spans.length > 0)
        .map(({ region, spans }) => ({ region, spans: spans.map(({ start, end }) => ({ start, end })), strength: mean(spans.map((span) => span.strength)) })),
  },
} as const satisfies Record<string, PruningMode>;

export type PruningModeName = keyof typeof PRUNING_MODES;

export const pruningModeNames = () => Object.keys(PRUNING_MODES) as PruningModeName[];

export function getPruningMode(name: string): PruningMode {
  const mode: PruningMode | undefined = PRUNING_MODES[name as PruningModeName];
  if (!mode) throw new Error(`unknown pruning mode "${name}" (known: ${pruningModeNames().join(', ')})`);
  return mode;
}
