import { existsSync } from 'node:fs';
import { Command, Option } from 'commander';

/**
 * One typed options object per command: each field documents itself once, and the same spec
 * feeds commander and the library call, so flags are never parsed ad hoc in several places.
 */
export interface OptionSpec<T> {
  /** commander flag syntax, e.g. '--threshold <tau>' or '--renormalize'. */
  flags: string;
  description: string;
  default?: T;
  choices?: readonly string[];
  parse?: (raw: string) => T;
  /** An environment variable that supplies the value when the flag is absent. */
  env?: string;
  required?: boolean;
  /** An input path that must exist: checked before the command runs, so the error names the option. */
  mustExist?: boolean;
}

export type OptionSpecs<O> = { [K in keyof O]-?: OptionSpec<O[K]> };

export function addOptions<O>(command: Command, specs: OptionSpecs<O>): Command {
  const inputs: Option[] = [];
  for (const spec of Object.values(specs) as OptionSpec<unknown>[]) {
    // commander enforces mandatory options but does not say so in --help.
    const option = new Option(spec.flags, spec.required ? `${spec.description} (required)` : spec.description);
    if (spec.default !== undefined) option.default(spec.default);
    if (spec.choices) option.choices(spec.choices);
    if (spec.parse) option.argParser(spec.parse as (value: string, previous: unknown) => unknown);
    if (spec.env) option.env(spec.env);
    if (spec.required) option.makeOptionMandatory();
    if (spec.mustExist) inputs.push(option);
    command.addOption(option);
  }
  if (inputs.length > 0) command.hook('preAction', (ran) => checkInputsExist(ran, inputs));
  return command;
}

function checkInputsExist(command: Command, inputs: Option[]): void {
  const values = command.opts();
  for (const option of inputs) {
    const value = values[option.attributeName()];
    for (const path of Array.isArray(value) ? value : value === undefined ? [] : [value])
      if (!existsSync(path)) throw new Error(`${option.long} ${path}: no such file or directory`);
  }
}

export function parseNumber(name: string, { min, max, integer }: { min?: number; max?: number; integer?: boolean } = {}) {
  return (raw: string): number => {
    // Number('') is 0: an empty value (e.g. an unset shell variable) must not pass as zero.
    const value = raw.trim() === '' ? NaN : Number(raw);
    if (!Number.isFinite(value) || (integer && !Number.isInteger(value)))
      throw new Error(`${name} must be ${integer ? 'an integer' : 'a number'}, got "${raw}"`);
    if (min !== undefined && value < min) throw new Error(`${name} must be >= ${min}, got ${value}`);
    if (max !== undefined && value > max) throw new Error(`${name} must be <= ${max}, got ${value}`);
    return value;
  };
}

/** Split parsed options into those `specs` declares and the rest (one command line, two consumers). */
export function splitOptions<O>(options: Record<string, unknown>, specs: OptionSpecs<O>): [O, Record<string, unknown>] {
  const own: Record<string, unknown> = {};
  const rest: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(options)) (key in specs ? own : rest)[key] = value;
  return [own as O, rest];
}

/**
 * The command-line arguments that make commander parse `values` back (for a command run again
 * elsewhere, e.g. by a cluster job). Options left at their default or unset are omitted.
 */
export function argvFromOptions<O>(specs: OptionSpecs<O>, values: Partial<O>): string[] {
  const argv: string[] = [];
  for (const [key, spec] of Object.entries(specs) as [string, OptionSpec<unknown>][]) {
    const value = (values as Record<string, unknown>)[key];
    if (value === undefined || value === spec.default) continue;
    const flag = spec.flags.split(/[ ,]+/).find((part) => part.startsWith('--'))!;
    if (!/[<[]/.test(spec.flags)) {
      // A boolean switch: `--x` sets true, `--no-x` sets false.
      if (value === !flag.startsWith('--no-')) argv.push(flag);
      continue;
    }
    for (const item of Array.isArray(value) ? value : [value]) argv.push(flag, String(item));
  }
  return argv;
}
