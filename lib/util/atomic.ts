import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, basename } from 'node:path';

/** Whether process `pid` still runs (EPERM: it does, under another user). */
function running(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * Remove the leftovers in `dir` of writers killed mid-write: entries named `prefix` + pid +
 * one of `suffixes` whose process is gone. A live writer's temporary is left alone.
 */
export function removeStaleTemps(dir: string, prefix: string, suffixes: readonly string[] = ['.tmp']): void {
  if (!existsSync(dir)) return;
  const pattern = new RegExp(`^${escapeRegExp(prefix)}(\\d+)(${suffixes.map(escapeRegExp).join('|')})$`);
  for (const name of readdirSync(dir)) {
    const match = pattern.exec(name);
    if (match && !running(Number(match[1]))) rmSync(join(dir, name), { recursive: true, force: true });
  }
}

/**
 * Path of the temporary sibling a file is written to before it is renamed into place. Stale
 * temporaries of the same file (their writer was killed) are removed first, so they never pile up.
 */
export function tempPathFor(path: string): string {
  const prefix = `.${basename(path)}.`;
  removeStaleTemps(dirname(path), prefix);
  return join(dirname(path), `${prefix}${process.pid}.tmp`);
}

/** Write a file so that readers see either the old content or the complete new content, never a part. */
export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  mkdirSync(dirname(path), { recursive: true });
  const temp = tempPathFor(path);
  try {
    writeFileSync(temp, data);
    renameSync(temp, path);
  } catch (error) {
    rmSync(temp, { force: true });
    throw error;
  }
}
