import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Table, Utf8, tableToIPC, vectorFromArray } from 'apache-arrow';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { afterAll, describe, expect, it } from 'vitest';
import { readCorpus } from '../lib/corpus/index.ts';
import { loadTrainingRows } from '../lib/distill/data/load.ts';
import { writeDirectoryAtomic } from '../lib/distill/checkpoint.ts';
import { writeFileAtomic } from '../lib/util/atomic.ts';

const dir = mkdtempSync(join(tmpdir(), 'leaf-corpus-hardening-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, content: string | Uint8Array): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

// Beyond Linux's largest pid (2^22), so no process can hold it.
const GONE = 4_194_305;

describe('text that is not valid Unicode is a bad record, in every reader', () => {
  const good = JSON.stringify({ instruction: 'add 2 and 3', output: '5' });
  // Written as JSON escapes, the way they arrive from other tools.
  const surrogate = '{"instruction": "add \\ud800 2", "output": "5"}';
  const nul = '{"instruction": "add 2", "output": "fi\\u0000ve"}';

  it('JSON Lines: a lone surrogate and an escaped NUL, with line and reason', async () => {
    const path = file('bad.jsonl', [good, surrogate, nul].join('\n') + '\n');
    const read = readCorpus(path);
    await expect(read).rejects.toThrow(`${path}:2: field "instruction" holds a lone surrogate (\\ud800) at character 4, which is not valid Unicode text`);
    await expect(read).rejects.toThrow(`${path}:3: field "output" holds a NUL character (\\u0000) at character 2`);
    const skipped = await readCorpus(path, {}, { onError: 'skip' });
    expect(skipped.samples).toHaveLength(1);
    expect(skipped.skipped.map((s) => s.line)).toEqual([2, 3]);
  });

  it('a JSON array, and training rows read by distill and eval', async () => {
    const path = file('bad.json', `[\n${[good, surrogate].join(',\n')}\n]`);
    await expect(readCorpus(path)).rejects.toThrow(`${path}:3: field "instruction" holds a lone surrogate`);
    await expect(loadTrainingRows(file('bad-train.jsonl', `${good}\n${nul}\n`))).rejects.toThrow(/:2: field "output" holds a NUL character/);
  });

  it('Arrow and Parquet: a NUL inside a string column', async () => {
    const values = { instruction: ['add 2 and 3', 'add 1 and 1'], output: ['5', 'tw\u0000o'] };
    const table = new Table({ instruction: vectorFromArray(values.instruction, new Utf8()), output: vectorFromArray(values.output, new Utf8()) });
    const arrow = file('bad.arrow', tableToIPC(table, 'stream'));
    await expect(readCorpus(arrow)).rejects.toThrow(`${arrow}: row 1: field "output" holds a NUL character (\\u0000) at character 2`);
    const parquet = file(
      'bad.parquet',
      new Uint8Array(
        parquetWriteBuffer({
          columnData: Object.entries(values).map(([name, data]) => ({ name, data })),
          schema: [
            { name: 'root', num_children: 2 },
            ...Object.keys(values).map((name) => ({ name, type: 'BYTE_ARRAY' as const, converted_type: 'UTF8' as const, repetition_type: 'REQUIRED' as const })),
          ],
        }),
      ),
    );
    await expect(readCorpus(parquet)).rejects.toThrow(`${parquet}: row 1: field "output" holds a NUL character`);
  });

  it('valid surrogate pairs (emoji) are text', async () => {
    const corpus = await readCorpus(file('emoji.jsonl', '{"instruction": "\\ud83c\\udf4e has 3", "output": "3"}\n'));
    expect(corpus.samples[0].instruction).toBe('🍎 has 3');
  });
});

describe('a field no record has', () => {
  it('lists the fields the records have and suggests the mapping option', async () => {
    const path = file('prompts.jsonl', ['{"prompt": "add 2 and 3", "output": "5", "meta": 1}', '{"prompt": "add 1 and 1", "output": "2"}'].join('\n'));
    await expect(readCorpus(path)).rejects.toThrow(
      `${path}: no record has the field "instruction" (--instruction-field); the records have: prompt, output, meta. Name the column to use with --instruction-field, e.g. --instruction-field prompt`,
    );
    await expect(readCorpus(path, {}, { onError: 'skip' })).rejects.toThrow(/no record has the field "instruction"/);
    const responses = file('completions.jsonl', '{"instruction": "add 2 and 3", "completion": "5"}\n');
    await expect(readCorpus(responses)).rejects.toThrow(/no record has the field "output" \(--response-field\).*e\.g\. --response-field completion/);
  });

  it('a field missing from only some records stays a per-record problem', async () => {
    const path = file('some.jsonl', ['{"instruction": "a", "output": "b"}', '{"prompt": "a", "output": "b"}'].join('\n'));
    await expect(readCorpus(path)).rejects.toThrow(`${path}:2: missing field "instruction" (fields present: prompt, output)`);
  });
});

describe('stale temporaries of killed writers', () => {
  it('the next write of a file removes them; a live writer\'s is kept', () => {
    const out = join(dir, 'out');
    mkdirSync(out);
    const stale = join(out, `.summary.json.${GONE}.tmp`);
    const live = join(out, `.summary.json.${process.ppid}.tmp`);
    const other = join(out, `.other.json.${GONE}.tmp`);
    for (const path of [stale, live, other]) writeFileSync(path, 'partial');
    writeFileAtomic(join(out, 'summary.json'), '{}\n');
    expect(existsSync(stale)).toBe(false);
    expect(existsSync(live)).toBe(true);
    expect(existsSync(other)).toBe(true);
  });

  it('checkpoint directories: DIR.PID.tmp and DIR.PID.old of a dead writer go', () => {
    const root = join(dir, 'run');
    for (const name of [`final.${GONE}.tmp`, `final.${GONE}.old`, 'final']) mkdirSync(join(root, name), { recursive: true });
    writeDirectoryAtomic(join(root, 'final'), (temp) => writeFileSync(join(temp, 'config.json'), '{}'));
    expect(readdirSync(root)).toEqual(['final']);
  });
});
