/** Parameters of a threshold rule by name (e.g. { p: 0.05, cap: 0.5 }). */
export type RuleParams = Readonly<Record<string, number>>;

export interface ThresholdRule {
  readonly name: string;
  readonly description: string;
  /** Every parameter the rule accepts, with its default (undefined = required) and meaning. */
  readonly parameters: Readonly<Record<string, { default?: number; description: string; min?: number; max?: number }>>;
  /** τ for one region, from that region's Δ values. Tokens with Δ ≤ τ are flagged. */
  threshold(delta: ArrayLike<number>, params: RuleParams): number;
}

/** A rule with its parameters resolved (defaults filled in, values checked). */
export interface ResolvedRule {
  rule: ThresholdRule;
  params: RuleParams;
  /** Canonical spec string, e.g. "percentile:p=0.05,cap=0.5", recorded in rows and manifests. */
  spec: string;
}

const rules = new Map<string, ThresholdRule>();

export function registerThresholdRule(rule: ThresholdRule): void {
  if (rules.has(rule.name)) throw new Error(`threshold rule "${rule.name}" is registered twice`);
  rules.set(rule.name, rule);
}

export function thresholdRuleNames(): string[] {
  return [...rules.keys()];
}

export function getThresholdRule(name: string): ThresholdRule {
  const rule = rules.get(name);
  if (!rule) throw new Error(`unknown threshold rule "${name}" (known: ${thresholdRuleNames().join(', ')})`);
  return rule;
}

/** Fill in defaults and check a rule's parameters. */
export function resolveRule(name: string, given: Record<string, number> = {}): ResolvedRule {
  const rule = getThresholdRule(name);
  const params: Record<string, number> = {};
  for (const key of Object.keys(given))
    if (!(key in rule.parameters))
      throw new Error(`threshold rule "${name}" has no parameter "${key}" (it takes: ${Object.keys(rule.parameters).join(', ')})`);
  for (const [key, spec] of Object.entries(rule.parameters)) {
    const value = given[key] ?? spec.default;
    if (value === undefined) throw new Error(`threshold rule "${name}" needs parameter "${key}" (${spec.description})`);
    if (!Number.isFinite(value)) throw new Error(`threshold rule "${name}": ${key} must be a finite number, got ${value}`);
    if (spec.min !== undefined && value < spec.min) throw new Error(`threshold rule "${name}": ${key} must be >= ${spec.min}, got ${value}`);
    if (spec.max !== undefined && value > spec.max) throw new Error(`threshold rule "${name}": ${key} must be <= ${spec.max}, got ${value}`);
    params[key] = value;
  }
  const spec = `${name}:${Object.entries(params).map(([k, v]) => `${k}=${v}`).join(',')}`;
  return { rule, params, spec };
}

/** Parse "NAME" or "NAME:k=v,k=v" (the --rule flag) into a resolved rule. */
export function parseRuleSpec(text: string): ResolvedRule {
  const [name, rest] = text.includes(':') ? [text.slice(0, text.indexOf(':')), text.slice(text.indexOf(':') + 1)] : [text, ''];
  const given: Record<string, number> = {};
  for (const part of rest.split(',').filter((p) => p.trim() !== '')) {
    const eq = part.indexOf('=');
    const key = part.slice(0, eq).trim();
    const value = Number(part.slice(eq + 1));
    if (eq <= 0 || part.slice(eq + 1).trim() === '' || !Number.isFinite(value))
      throw new Error(`threshold rule "${text}": expected NAME:key=number,... but got "${part}"`);
    given[key] = value;
  }
  return resolveRule(name.trim(), given);
}
