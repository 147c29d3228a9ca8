// initRuntime's choices, errors and fallback, and `leaf env` (run as a real CLI process so the
// fallback starts from a clean module state).
import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { initRuntime, type RuntimeInfo } from '../lib/runtime/index.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const cblasPresent = ['/usr/include/x86_64-linux-gnu/cblas.h', '/usr/include/cblas.h', '/usr/include/openblas/cblas.h'].some(existsSync);

async function leaf(args: string[], env: Record<string, string> = {}) {
  const childEnv = { ...process.env, ...env };
  delete childEnv.LEAF_BACKEND;
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ['bin/leaf.js', ...args], { cwd: root, env: childEnv });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

describe('initRuntime', () => {
  it('rejects an unknown backend name, listing the known ones', async () => {
    await expect(initRuntime({ backend: 'gpu' as never, quiet: true })).rejects.toThrow(/unknown backend "gpu".*native, wasm, cpu/);
  });

  it('reports an explicit backend that cannot load as an error with the reason', async () => {
    await expect(initRuntime({ backend: 'tfjs-node', quiet: true })).rejects.toThrow(/backend "tfjs-node" is not available: @tensorflow\/tfjs-node is not installed/);
  });

  it('activates cpu and registers the gradients tfjs-core\'s Node bundle lacks', async () => {
    const info = await initRuntime({ backend: 'cpu', quiet: true });
    expect(info).toMatchObject({ backend: 'cpu', tfBackend: 'cpu', blas: null, threads: 1 });
    expect(tf.getBackend()).toBe('cpu');
    const grad = tf.grad((x: tf.Tensor) => tf.sum(tf.neg(tf.square(x))))(tf.tensor1d([1, -2]));
    expect(Array.from(grad.dataSync())).toEqual([-2, 4]);
  });

  it('is idempotent: the same choice returns the same info and re-activates the backend', async () => {
    const first = await initRuntime({ backend: 'wasm', quiet: true });
    await tf.setBackend('cpu');
    const started = performance.now();
    const second = await initRuntime({ backend: 'wasm', quiet: true });
    expect(second).toBe(first);
    expect(tf.getBackend()).toBe('wasm');
    expect(performance.now() - started).toBeLessThan(200);
  });

  it('reads LEAF_BACKEND when no backend is given', async () => {
    process.env.LEAF_BACKEND = 'cpu';
    try {
      expect((await initRuntime({ quiet: true })).backend).toBe('cpu');
    } finally {
      delete process.env.LEAF_BACKEND;
    }
  });

  it.runIf(cblasPresent)('auto picks native where OpenBLAS is installed, and says so on stderr', async () => {
    const written: string[] = [];
    const write = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((chunk: string) => (written.push(String(chunk)), true)) as typeof process.stderr.write;
    let info: RuntimeInfo;
    try {
      info = await initRuntime({ backend: 'auto' });
    } finally {
      process.stderr.write = write;
    }
    expect(info.backend).toBe('native');
    expect(info.blas).toMatch(/^OpenBLAS/);
    expect(info.hint).toBeUndefined();
    expect(written.join('')).toMatch(/^leaf: backend native \(OpenBLAS [^)]+\), \d+ threads?\)\n$/);
  });
});

describe.concurrent('leaf env', () => {
  it.runIf(cblasPresent)('--json shows native with OpenBLAS, threads and versions', async () => {
    const { code, stdout } = await leaf(['env', '--json']);
    expect(code).toBe(0);
    const info = JSON.parse(stdout) as RuntimeInfo;
    expect(info.backend).toBe('native');
    expect(info.blas).toMatch(/^OpenBLAS \d+\.\d+\.\d+ \(\w+\)$/);
    expect(info.threads).toBeGreaterThanOrEqual(1);
    expect(info.versions).toMatchObject({ node: process.versions.node, 'tfjs-core': '4.22.0', leaf: expect.any(String) });
  });

  it('falls back to wasm with a hint when the native addon is absent', async () => {
    const { code, stdout } = await leaf(['env', '--json'], { LEAF_NATIVE_ADDON: '/nonexistent/leaf_native.node' });
    expect(code).toBe(0);
    const info = JSON.parse(stdout) as RuntimeInfo;
    expect(info.backend).toBe('wasm');
    expect(info.hint).toMatch(/native backend unavailable: native addon not built.*apt-get install libopenblas-dev/);
  });

  it('prints one line per field without --json', async () => {
    const { code, stdout } = await leaf(['env', '--backend', 'cpu']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^backend\s+cpu\nblas\s+none\nthreads\s+1\nnode\s+\S+\ntfjs-core\s+4\.22\.0\n/);
  });

  it('fails with the reason when an explicit backend is unavailable', async () => {
    const { code, stderr } = await leaf(['env', '--backend', 'native'], { LEAF_NATIVE_ADDON: '/nonexistent/leaf_native.node' });
    expect(code).toBe(1);
    expect(stderr).toMatch(/backend "native" is not available: native addon not built \(no \/nonexistent\/leaf_native.node\)/);
  });
});
