import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/**
 * The page's code and styles, read from disk when a report is built. The client is plain
 * JavaScript (checked with `// @ts-check`), concatenated into one script in this order, because
 * it runs in the browser as is: no bundler sits between these files and the page.
 */
export const CLIENT_FILES = ['dom.js', 'colors.js', 'decode.js', 'heatmap.js', 'charts.js', 'overview.js', 'samples.js', 'training.js', 'app.js'];

export const clientPath = (name: string) => fileURLToPath(new URL(`./client/${name}`, import.meta.url));

export interface ReportAssets {
  clientScript: string;
  clientStyles: string;
  uplotScript: string;
  uplotStyles: string;
}

let cached: ReportAssets | null = null;

export function reportAssets(): ReportAssets {
  if (cached) return cached;
  const require = createRequire(import.meta.url);
  const body = CLIENT_FILES.map((name) => `// ${name}\n${readFileSync(clientPath(name), 'utf8').replace(/^\/\/ @ts-check\n/, '')}`).join('\n');
  cached = {
    clientScript: `(() => {\n'use strict';\n${body}\n})();\n`,
    clientStyles: readFileSync(clientPath('styles.css'), 'utf8'),
    uplotScript: readFileSync(require.resolve('uplot/dist/uPlot.iife.min.js'), 'utf8'),
    uplotStyles: readFileSync(require.resolve('uplot/dist/uPlot.min.css'), 'utf8'),
  };
  return cached;
}
