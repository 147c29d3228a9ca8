import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { schemaMarkdown } from '../lib/corpus/index.ts';

// The README documents the artifact schemas; the code defines them. This keeps the two equal.
describe('README', () => {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  it.each(['attributions', 'pruned'] as const)('documents the %s schema exactly as lib/corpus defines it', (name) => {
    expect(readme).toContain(schemaMarkdown(name));
  });
  it('starts with the demo command and then the test command', () => {
    const commands = [...readme.matchAll(/```sh\n([^\n]+)\n```/g)].map((m) => m[1]);
    expect(commands.slice(0, 2)).toEqual(['npm ci && npx leaf demo', 'npm ci && npm test']);
  });
});
