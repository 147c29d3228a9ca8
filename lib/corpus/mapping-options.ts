import type { OptionSpec, OptionSpecs } from '../util/options.ts';
import { DEFAULT_FIELD_MAPPING, FIELD_OPTIONS, type FieldMapping } from './mapping.ts';

const ROLES: Record<keyof FieldMapping, string> = {
  idField: 'column with a unique sample id',
  instructionField: 'instruction column',
  inputField: 'optional input column appended to the instruction',
  responseField: 'reference response column',
  answerField: 'gold answer column',
};

/**
 * The field-mapping flags every command that reads a corpus takes, defined once. Without `fallback`
 * an absent flag means the corpus default; with it (prune: "as in the analysis") the flag stays
 * undefined and the command fills it in.
 */
export function fieldMappingSpecs(): OptionSpecs<FieldMapping>;
export function fieldMappingSpecs(fallback: string): OptionSpecs<Partial<FieldMapping>>;
export function fieldMappingSpecs(fallback?: string): OptionSpecs<Partial<FieldMapping>> {
  const spec = (key: keyof FieldMapping): OptionSpec<string | undefined> => {
    const flags = `${FIELD_OPTIONS[key].flag} <name>`;
    if (fallback !== undefined) return { flags, description: `${ROLES[key]} (default: ${fallback})` };
    const value = DEFAULT_FIELD_MAPPING[key];
    return value === undefined ? { flags, description: `${ROLES[key]} (default: the 0-based record index)` } : { flags, description: ROLES[key], default: value };
  };
  return {
    idField: spec('idField'),
    instructionField: spec('instructionField'),
    inputField: spec('inputField'),
    responseField: spec('responseField'),
    answerField: spec('answerField'),
  };
}

/** The mapping fields a command's options name (absent ones left to the reader's defaults). */
export function pickFieldMapping(options: Partial<FieldMapping>): Partial<FieldMapping> {
  return Object.fromEntries((Object.keys(FIELD_OPTIONS) as (keyof FieldMapping)[]).filter((key) => options[key] !== undefined).map((key) => [key, options[key]]));
}
