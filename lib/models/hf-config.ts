// Typed reads of config.json fields, with errors that name the file and the field.

export type RawConfig = Record<string, unknown>;

export function readInteger(raw: RawConfig, field: string, source: string, fallback?: number): number {
  const value = raw[field] ?? fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) {
    throw new Error(`${source}: field "${field}" must be a positive integer, got ${JSON.stringify(raw[field])}`);
  }
  return value;
}

export function readNumber(raw: RawConfig, field: string, source: string, fallback?: number): number {
  const value = raw[field] ?? fallback;
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new Error(`${source}: field "${field}" must be a number, got ${JSON.stringify(raw[field])}`);
  }
  return value;
}

export function readBoolean(raw: RawConfig, field: string, source: string, fallback: boolean): boolean {
  const value = raw[field] ?? fallback;
  if (typeof value !== 'boolean') throw new Error(`${source}: field "${field}" must be true or false, got ${JSON.stringify(raw[field])}`);
  return value;
}

export function readString(raw: RawConfig, field: string, source: string, fallback: string): string {
  const value = raw[field] ?? fallback;
  if (typeof value !== 'string') throw new Error(`${source}: field "${field}" must be a string, got ${JSON.stringify(raw[field])}`);
  return value;
}

/** `eos_token_id` may be one id or a list. */
export function readTokenIds(raw: RawConfig, field: string, source: string): number[] {
  const value = raw[field];
  if (value === undefined || value === null) return [];
  const ids = Array.isArray(value) ? value : [value];
  if (!ids.every((id) => Number.isInteger(id) && id >= 0)) throw new Error(`${source}: field "${field}" must be a token id or a list of them, got ${JSON.stringify(value)}`);
  return ids as number[];
}

export function readOptionalTokenId(raw: RawConfig, field: string, source: string): number | undefined {
  const ids = readTokenIds(raw, field, source);
  if (ids.length > 1) throw new Error(`${source}: field "${field}" must be a single token id, got ${JSON.stringify(raw[field])}`);
  return ids[0];
}

export function tokenIdsField(ids: number[]): number | number[] | undefined {
  if (ids.length === 0) return undefined;
  return ids.length === 1 ? ids[0] : ids;
}

/** Fail on a flag whose non-default value changes the maths in a way leaf does not implement. */
export function rejectUnsupported(raw: RawConfig, field: string, source: string, isSupported: (value: unknown) => boolean, what: string): void {
  if (raw[field] !== undefined && !isSupported(raw[field])) {
    throw new Error(`${source}: ${field}=${JSON.stringify(raw[field])} is not supported (${what})`);
  }
}
