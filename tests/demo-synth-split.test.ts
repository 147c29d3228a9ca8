import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readSynthSplit } from '../lib/demo/index.ts';

const dir = mkdtempSync(join(tmpdir(), 'leaf-synth-split-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('readSynthSplit', () => {
  it('reads the split, skipping blank lines', () => {
    writeFileSync(join(dir, 'test.jsonl'), '{"id":"a"}\n\n{"id":"b"}\n');
    expect(readSynthSplit(dir, 'test').map((s) => s.id)).toEqual(['a', 'b']);
  });

  it('names the file and its line (blank lines counted) when a record is not JSON', () => {
    writeFileSync(join(dir, 'clean.jsonl'), '{"id":"a"}\n\n{"id":\n');
    expect(() => readSynthSplit(dir, 'clean')).toThrow(`${join(dir, 'clean.jsonl')}:3: not valid JSON`);
  });

  it('names a missing split', () => {
    expect(() => readSynthSplit(dir, 'train-distill')).toThrow(`${join(dir, 'train-distill.jsonl')}: no such file`);
  });
});
