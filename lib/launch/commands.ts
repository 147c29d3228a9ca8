import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/** Where `name` is on PATH, or undefined. */
export function findOnPath(name: string, path = process.env.PATH ?? ''): string | undefined {
  for (const dir of path.split(delimiter).filter(Boolean)) {
    try {
      accessSync(join(dir, name), constants.X_OK);
      return join(dir, name);
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

export interface CommandResult {
  status: number;
  stdout: string;
  stderr: string;
}

/** Run a scheduler client; `what` says in an error which step needed it. */
export function runTool(tool: string, args: string[], what: string): CommandResult {
  if (!findOnPath(tool)) throw new Error(`${tool} is not on PATH (${process.env.PATH ?? ''}): ${what} needs it; run on a node with the scheduler's client tools, or add --dry-run to print the job files`);
  const result = spawnSync(tool, args, { encoding: 'utf8' });
  if (result.error) throw new Error(`${tool} ${args.join(' ')}: ${result.error.message}`);
  return { status: result.status ?? 1, stdout: result.stdout, stderr: result.stderr };
}

/** Like runTool, but a non-zero exit is an error quoting the tool's own message. */
export function runToolOrFail(tool: string, args: string[], what: string): string {
  const result = runTool(tool, args, what);
  if (result.status !== 0) throw new Error(`${what}: ${tool} ${args.join(' ')} failed (exit ${result.status}): ${(result.stderr || result.stdout).trim()}`);
  return result.stdout;
}
