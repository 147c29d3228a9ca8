#!/usr/bin/env node
// Builds leaf's N-API addon (OpenBLAS kernels) during `npm install` / `npm ci`.
// It never fails the install: without OpenBLAS headers, or when compiling fails, it prints a hint
// and leaf falls back to the wasm backend. `--force` rebuilds even when the addon is up to date.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const output = join(here, 'build', 'Release', 'leaf_native.node');
const sources = ['binding.gyp', ...readdirSync(join(here, 'src')).map((name) => join('src', name))].map((name) => join(here, name));
const HINT = 'apt-get install libopenblas-dev, then npm run build:native';
const force = process.argv.includes('--force');

function say(line) {
  console.log(`leaf: ${line}`);
}

/** Include and library directories of OpenBLAS: pkg-config first, then the usual places. */
function findOpenBlas() {
  try {
    const flags = execFileSync('pkg-config', ['--cflags', '--libs', 'openblas'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const include = /-I(\S+)/.exec(flags)?.[1];
    const libdir = /-L(\S+)/.exec(flags)?.[1];
    if (include && libdir && existsSync(join(include, 'cblas.h'))) return { include, libdir };
  } catch {
    // no pkg-config or no openblas.pc: look in the usual places
  }
  const arch = process.arch === 'arm64' ? 'aarch64-linux-gnu' : 'x86_64-linux-gnu';
  const includes = [`/usr/include/${arch}/openblas-pthread`, `/usr/include/${arch}`, '/usr/include/openblas', '/usr/include',
    '/usr/local/include', '/opt/homebrew/opt/openblas/include', '/usr/local/opt/openblas/include'];
  const libdirs = [`/usr/lib/${arch}/openblas-pthread`, `/usr/lib/${arch}`, '/usr/lib64', '/usr/lib', '/usr/local/lib',
    '/opt/homebrew/opt/openblas/lib', '/usr/local/opt/openblas/lib'];
  // openblas_config.h tells OpenBLAS's cblas.h from other BLAS vendors' (the addon uses openblas_* calls).
  const include = includes.find((dir) => existsSync(join(dir, 'cblas.h')) && existsSync(join(dir, 'openblas_config.h')));
  const libdir = libdirs.find((dir) => ['libopenblas.so', 'libopenblas.dylib'].some((lib) => existsSync(join(dir, lib))));
  return include && libdir ? { include, libdir } : null;
}

function upToDate() {
  if (!existsSync(output)) return false;
  const built = statSync(output).mtimeMs;
  return sources.every((source) => statSync(source).mtimeMs <= built);
}

/** Node's headers: npm passes nodedir from its config; a plain `node build.mjs` uses the running node's prefix. */
function nodedir() {
  if (process.env.npm_config_nodedir) return process.env.npm_config_nodedir;
  const prefix = dirname(dirname(process.execPath));
  return existsSync(join(prefix, 'include', 'node', 'node_api.h')) ? prefix : undefined;
}

function main() {
  if (!force && upToDate()) {
    say('native addon up to date');
    return;
  }
  const blas = findOpenBlas();
  if (!blas) {
    say(`OpenBLAS headers not found; native backend disabled — ${HINT}`);
    return;
  }
  let nodeGyp;
  try {
    nodeGyp = join(dirname(createRequire(import.meta.url).resolve('node-gyp/package.json')), 'bin', 'node-gyp.js');
  } catch {
    say(`node-gyp is not installed; native backend disabled — npm install, then npm run build:native`);
    return;
  }
  const args = [nodeGyp, 'rebuild', `--directory=${here}`, `--openblas_include=${blas.include}`, `--openblas_libdir=${blas.libdir}`];
  const dir = nodedir();
  if (dir) args.push(`--nodedir=${dir}`);
  const result = spawnSync(process.execPath, args, { encoding: 'utf8' });
  if (result.status !== 0) {
    say('building the native addon failed; native backend disabled (leaf falls back to wasm) — fix the error below, then npm run build:native');
    const log = `${result.stdout ?? ''}${result.stderr ?? ''}${result.error ? String(result.error) : ''}`;
    for (const line of log.trim().split('\n').filter((l) => !l.startsWith('gyp ')).slice(-12)) console.log(`  ${line}`);
    return;
  }
  try {
    const { config, corename } = createRequire(import.meta.url)(output).info();
    say(`native addon built (${config.split(' ').slice(0, 2).join(' ')}, ${corename})`);
  } catch (error) {
    say(`native addon built but does not load (${error.message.split('\n')[0]}); native backend disabled — ${HINT}`);
  }
}

main();
