import { readFileSync } from 'node:fs';

/** leaf's version, from package.json (the one place it is set). */
export function leafVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}
