import type { RuntimeInfo } from './index.ts';

/** `leaf env`'s human-readable form of RuntimeInfo, one `key  value` line each. */
export function describeRuntime(info: RuntimeInfo): string {
  const rows: [string, string][] = [
    ['backend', info.backend === info.tfBackend ? info.backend : `${info.backend} (tfjs backend "${info.tfBackend}")`],
    ['blas', info.blas ?? 'none'],
    ['threads', String(info.threads)],
    ...Object.entries(info.versions).map(([name, version]): [string, string] => [name, version]),
  ];
  if (info.hint) rows.push(['hint', info.hint]);
  const width = Math.max(...rows.map(([key]) => key.length)) + 2;
  return rows.map(([key, value]) => `${key.padEnd(width)}${value}\n`).join('');
}
