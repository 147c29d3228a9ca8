// LEAF_PROFILE=1 times every kernel and native call of the `native` backend and reports at exit.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

const script = `
import * as tf from '@tensorflow/tfjs-core';
import { initRuntime } from './lib/runtime/index.ts';
await initRuntime({ backend: 'native' });
const a = tf.randomNormal([64, 64]);
for (let i = 0; i < 3; i++) tf.exp(tf.matMul(a, a)).dataSync();
`;

function run(profile: string | undefined) {
  const env = { ...process.env, LEAF_PROFILE: profile };
  if (profile === undefined) delete env.LEAF_PROFILE;
  return spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', env });
}

describe('LEAF_PROFILE', () => {
  it('reports kernels and native calls with their call counts at exit', () => {
    const out = run('1');
    expect(out.status).toBe(0);
    expect(out.stderr).toMatch(/LEAF_PROFILE tfjs kernels: [\d.]+ s in \d+ names/);
    expect(out.stderr).toMatch(/BatchMatMul\s+[\d.]+ s\s+[\d.]+ %\s+3 calls/);
    expect(out.stderr).toMatch(/LEAF_PROFILE native calls:/);
    expect(out.stderr).toMatch(/sgemmBatched\s+[\d.]+ s\s+[\d.]+ %\s+3 calls/);
    expect(out.stderr).toMatch(/unary\s+[\d.]+ s\s+[\d.]+ %\s+3 calls/);
  });

  it('is silent when off', () => {
    const out = run(undefined);
    expect(out.status).toBe(0);
    expect(out.stderr).not.toMatch(/LEAF_PROFILE/);
  });
});
