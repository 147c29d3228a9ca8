import { readFileSync } from 'node:fs';
import { describe, expect, it, vi } from 'vitest';

const json = (path: string) => JSON.parse(readFileSync(new URL(`../${path}`, import.meta.url), 'utf8'));

describe('a clean install prints nothing a user has to wonder about', () => {
  it('every installed dependency with an install script is reviewed in package.json allowScripts', () => {
    // npm 11 skips unreviewed install scripts and warns about each after every `npm ci`.
    const allow: Record<string, boolean> = json('package.json').allowScripts ?? {};
    const installed: Record<string, { version: string; hasInstallScript?: boolean }> = json('node_modules/.package-lock.json').packages;
    const withScripts = Object.entries(installed).filter(([, entry]) => entry.hasInstallScript);
    expect(withScripts.length).toBeGreaterThan(0);
    for (const [path, entry] of withScripts) {
      const name = path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length);
      expect(name in allow || `${name}@${entry.version}` in allow, `${name} (${path}) is not in allowScripts`).toBe(true);
    }
  });
});

describe('test and CLI output carry no tfjs banner', () => {
  it('importing leaf silences the install-tfjs-node greeting before any tensor is made', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    try {
      // lib/runtime is the one leaf module that loads the cpu backend, so every process making tensors imports it.
      await import('../lib/runtime/index.ts');
      const { MathBackendCPU } = await import('@tensorflow/tfjs-backend-cpu');
      // A fresh backend greets on its first write, as the first tensor of a process does.
      new MathBackendCPU().write(new Float32Array(1), [1], 'float32');
      expect(warn.mock.calls.map((call) => String(call[0])).join('')).not.toMatch(/looks like you are running TensorFlow\.js in Node\.js/);
    } finally {
      warn.mockRestore();
    }
  });
});
