import * as tf from '@tensorflow/tfjs-core';
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * tfjs-core's Node bundle registers no gradients: they ship only as ES modules with extensionless
 * imports (dist/register_all_gradients.js, meant for bundlers), which Node and tsx cannot load.
 * So we bundle that entry point once with esbuild into a CommonJS file and load it. The copy of
 * tfjs-core inside the bundle only registers gradient functions: the engine and the kernel and
 * gradient registries are process-global in tfjs, so its ops run on the same engine and backends.
 */
const require = createRequire(import.meta.url);
const coreVersion = tf.version_core;
const bundleName = `tfjs-core-${coreVersion}-gradients.cjs`;
const bundleDir = fileURLToPath(new URL('./build/', import.meta.url));

/** Registers every tfjs-core gradient unless something (e.g. a bundler) already has. */
export function ensureGradients(): void {
  if (tf.getGradient(tf.Neg) && tf.getGradient(tf.GatherV2)) return;
  require(bundlePath());
}

function bundlePath(): string {
  const cached = [join(bundleDir, bundleName), join(tmpdir(), 'leaf', bundleName)].find((path) => existsSync(path));
  if (cached) return cached;
  let code: Uint8Array;
  try {
    const esbuild = require('esbuild') as typeof import('esbuild');
    const result = esbuild.buildSync({
      entryPoints: [require.resolve('@tensorflow/tfjs-core/dist/register_all_gradients.js')],
      bundle: true,
      format: 'cjs',
      platform: 'node',
      write: false,
      logLevel: 'error',
    });
    code = result.outputFiles[0].contents;
  } catch (error) {
    throw new Error(`cannot register tfjs gradients: bundling tfjs-core's gradients with esbuild failed (${(error as Error).message.split('\n')[0]})`);
  }
  // Beside the package when writable (it then survives), else in the temp dir; written atomically
  // because parallel processes (test workers) may race to create it.
  for (const dir of [bundleDir, join(tmpdir(), 'leaf')]) {
    const path = join(dir, bundleName);
    try {
      mkdirSync(dirname(path), { recursive: true });
      const temp = `${path}.${process.pid}.tmp`;
      writeFileSync(temp, code);
      renameSync(temp, path);
      return path;
    } catch {
      // read-only location: try the next one
    }
  }
  throw new Error(`cannot register tfjs gradients: could not write ${bundleName} to ${bundleDir} or the temp dir`);
}
