// LEAF_PROFILE=1 times every kernel and native call of the `native` backend and reports at exit.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { profiledAddon, profiledKernel } from '../lib/runtime/profile.ts';

const script = `
import * as tf from '@tensorflow/tfjs-core';
import { initRuntime } from './lib/runtime/index.ts';
await initRuntime({ backend: 'native' });
const a = tf.randomNormal([64, 64]);
for (let i = 0; i < 3; i++) tf.exp(tf.matMul(a, a)).dataSync();
`;

function run(profile: string) {
  return spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', env: { ...process.env, LEAF_PROFILE: profile } });
}

describe('LEAF_PROFILE', () => {
  it('reports kernels, native calls and GEMM shapes with call counts, CPU time and rates at exit', () => {
    const out = run('1');
    expect(out.status).toBe(0);
    expect(out.stderr).toMatch(/LEAF_PROFILE tfjs kernels: [\d.]+ s \([\d.]+ CPU-s\) in \d+ names/);
    expect(out.stderr).toMatch(/BatchMatMul\s+[\d.]+ s\s+[\d.]+ %\s+[\d.]+ CPU-s\s+3 calls/);
    expect(out.stderr).toMatch(/LEAF_PROFILE native calls:/);
    expect(out.stderr).toMatch(/sgemmBatched\s+[\d.]+ s\s+[\d.]+ %\s+[\d.]+ CPU-s\s+3 calls/);
    expect(out.stderr).toMatch(/unary\s+[\d.]+ s\s+[\d.]+ %\s+[\d.]+ CPU-s\s+3 calls/);
    expect(out.stderr).toMatch(/LEAF_PROFILE GEMM shapes:/);
    expect(out.stderr).toMatch(/sgemm 64×64×64\s+[\d.]+ s\s+[\d.]+ %\s+[\d.]+ CPU-s\s+3 calls\s+[\d.]+ GFLOP\/s, +([\d.]+|n\/a) per CPU-second/);
  });

  it('leaves kernels and the addon untouched when off', () => {
    const previous = process.env.LEAF_PROFILE;
    delete process.env.LEAF_PROFILE;
    try {
      const kernel = () => ({ dataId: {}, shape: [], dtype: 'float32' as const });
      const addon = { f: () => 1 };
      expect(profiledKernel('K', kernel)).toBe(kernel);
      expect(profiledAddon(addon)).toBe(addon);
    } finally {
      if (previous !== undefined) process.env.LEAF_PROFILE = previous;
    }
  });
});
