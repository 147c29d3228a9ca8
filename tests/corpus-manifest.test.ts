import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  configFingerprint,
  createManifest,
  fileRef,
  modelRef,
  readManifest,
  sha256File,
  writeManifest,
} from '../lib/corpus/index.ts';

const dir = mkdtempSync(join(tmpdir(), 'leaf-corpus-manifest-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** sha256 by the coreutils tool, independent of our code. */
const coreutilsSha256 = (path: string) => execFileSync('sha256sum', [path], { encoding: 'utf8' }).split(' ')[0];

describe('sha256File', () => {
  it('streams a multi-chunk file to the same digest as sha256sum', async () => {
    const path = join(dir, 'blob.bin');
    writeFileSync(path, randomBytes(3 * 1024 * 1024 + 17));
    expect(await sha256File(path)).toBe(coreutilsSha256(path));
    const empty = join(dir, 'empty.bin');
    writeFileSync(empty, '');
    expect(await sha256File(empty)).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  });
});

describe('configFingerprint', () => {
  it('ignores key order and undefined fields, and changes with any value', () => {
    const a = configFingerprint({ data: 'abc', options: { p: 0.05, cap: 0.5, method: 'grad-l2' } });
    expect(configFingerprint({ options: { method: 'grad-l2', cap: 0.5, p: 0.05, extra: undefined }, data: 'abc' })).toBe(a);
    expect(configFingerprint({ data: 'abc', options: { p: 0.1, cap: 0.5, method: 'grad-l2' } })).not.toBe(a);
    expect(configFingerprint({ data: 'abd', options: { p: 0.05, cap: 0.5, method: 'grad-l2' } })).not.toBe(a);
  });
});

describe('manifests', () => {
  it('records models and data by sha256 and reads back what it wrote', async () => {
    const model = join(dir, 'teacher');
    mkdirSync(model);
    writeFileSync(join(model, 'config.json'), JSON.stringify({ model_type: 'llama', hidden_size: 8 }));
    writeFileSync(join(model, 'model-00002-of-00002.safetensors'), 'second shard');
    writeFileSync(join(model, 'model-00001-of-00002.safetensors'), 'first shard');
    writeFileSync(join(model, 'tokenizer.json'), '{}');
    const data = join(dir, 'data.jsonl');
    writeFileSync(data, '{"instruction": "a", "output": "b"}\n');

    const teacher = await modelRef(model);
    expect(teacher.architecture).toBe('llama');
    expect(teacher.weights.map((w) => w.file)).toEqual(['model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors']);
    expect(teacher.weights[0].sha256).toBe(coreutilsSha256(join(model, 'model-00001-of-00002.safetensors')));
    expect(teacher.weights[0].bytes).toBe('first shard'.length);

    const manifest = createManifest({
      step: 'analyze',
      command: ['analyze', '--data', data],
      backend: 'native',
      models: { teacher, student: teacher },
      data: await fileRef(data),
      method: 'grad-l2',
      rule: { name: 'percentile', p: 0.05, cap: 0.5 },
      options: { batchSize: 8 },
      counts: { done: 1, skipped: [{ index: 3, line: 4, reason: 'invalid JSON' }], selected: 1 },
      timings: { analyze: 1.5 },
    });
    expect(manifest.data.sha256).toBe(coreutilsSha256(data));
    expect(manifest.leafVersion).toBe(JSON.parse(readFileSync('package.json', 'utf8')).version);
    expect(Date.parse(manifest.created)).not.toBeNaN();
    const path = join(dir, 'out', 'manifest.json');
    writeManifest(path, manifest);
    expect(readManifest(path)).toEqual(manifest);
  });

  it('names the file and the field that is wrong', () => {
    const path = join(dir, 'broken.json');
    const valid = createManifest({
      step: 'prune',
      models: {},
      data: { path: 'd.jsonl', sha256: 'x', bytes: 1 },
      options: {},
      counts: { done: 0, skipped: [] },
      timings: {},
    });
    writeFileSync(path, JSON.stringify({ ...valid, data: { path: 'd.jsonl' } }));
    expect(() => readManifest(path)).toThrow(`${path}: manifest field "data" must be an object with path, sha256 and bytes`);
    writeFileSync(path, JSON.stringify({ ...valid, counts: { done: 1 } }));
    expect(() => readManifest(path)).toThrow(`${path}: manifest field "counts" must be an object with done and skipped`);
    writeFileSync(path, JSON.stringify({ hello: 'world' }));
    expect(() => readManifest(path)).toThrow(`${path}: not a leaf manifest`);
    writeFileSync(path, '{');
    expect(() => readManifest(path)).toThrow(`${path}: cannot read the manifest`);
  });

  it('refuses a model directory without config or weights', async () => {
    const empty = join(dir, 'empty-model');
    mkdirSync(empty);
    await expect(modelRef(empty)).rejects.toThrow(`${join(empty, 'config.json')}: cannot read the model config`);
    writeFileSync(join(empty, 'config.json'), JSON.stringify({ model_type: 'gpt2' }));
    await expect(modelRef(empty)).rejects.toThrow(`${empty}: no *.safetensors weight files`);
  });
});
