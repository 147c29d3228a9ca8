import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  mergeShards,
  openRun,
  parseShard,
  readPruned,
  writeRows,
  type PrunedRow,
  type SampleResult,
  type Shard,
} from '../lib/corpus/index.ts';
import { batchesOf, FINGERPRINT, resultFor } from './corpus-resume-rows.ts';

const TOTAL = 120;
const root = mkdtempSync(join(tmpdir(), 'leaf-corpus-resume-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let dirCount = 0;
const freshDir = () => join(root, `run-${dirCount++}`);

async function runInProcess(dir: string, { batch, shard, upTo }: { batch: number; shard?: Shard; upTo?: number }) {
  const run = await openRun(dir, { artifact: 'pruned', total: TOTAL, configFingerprint: FINGERPRINT, resume: true, shard });
  let batches = batchesOf(run.todo(), batch);
  if (upTo !== undefined) batches = batches.slice(0, upTo);
  for (const indices of batches) await run.commit(indices.map(resultFor));
  return run;
}

const partsOf = (dir: string) => (existsSync(join(dir, 'parts')) ? readdirSync(join(dir, 'parts')) : []);

let reference: Buffer;
beforeAll(async () => {
  const dir = freshDir();
  const run = await runInProcess(dir, { batch: 7 });
  await run.finalize(join(dir, 'out.arrow'));
  reference = readFileSync(join(dir, 'out.arrow'));
});

describe('resumable output: an uninterrupted run', () => {
  it('writes the rows in corpus order, byte-identical to writing them all at once', async () => {
    const allRows = Array.from({ length: TOTAL }, (_, k) => resultFor(k)).flatMap((result) => ('rows' in result ? result.rows : []));
    const direct = join(root, 'direct.arrow');
    await writeRows(direct, allRows, 'pruned');
    expect(readFileSync(direct).equals(reference)).toBe(true);
    const back = await readPruned(direct);
    expect(back.map((row) => row.id)).toEqual(allRows.map((row) => row.id));
  });

  it('reports every sample and the skipped ones with their reasons, and removes its parts when closed', async () => {
    const dir = freshDir();
    const run = await runInProcess(dir, { batch: 13 });
    const result = await run.finalize(join(dir, 'out.arrow'));
    expect(partsOf(dir).length).toBeGreaterThan(0);
    run.close(join(dir, 'out.arrow'));
    const skippedByHand = Array.from({ length: TOTAL }, (_, k) => k).filter((k) => k % 11 === 5);
    expect(result.samples).toBe(TOTAL);
    expect(result.skipped).toEqual(skippedByHand.map((index) => ({ index, reason: `sample ${index} failed the numeric guard` })));
    expect(existsSync(join(dir, 'parts'))).toBe(false);
    expect(readFileSync(join(dir, 'out.arrow')).equals(reference)).toBe(true);
  });
});

function startWorker(dir: string) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'tests/corpus-resume-worker.ts', dir, String(TOTAL), '5', '30'], {
    cwd: join(import.meta.dirname, '..'),
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  return { child, exited, stderr: () => stderr };
}

/** Start the slow worker and SIGKILL it once `parts` more parts have appeared. */
async function killAfter(dir: string, parts: number) {
  const before = partsOf(dir).filter((name) => name.endsWith('.arrow')).length;
  const worker = startWorker(dir);
  const deadline = Date.now() + 60_000;
  while (partsOf(dir).filter((name) => name.endsWith('.arrow')).length < before + parts) {
    if (Date.now() > deadline) throw new Error(`worker made no progress: ${worker.stderr()}`);
    if (worker.child.exitCode !== null) throw new Error(`worker ended early: ${worker.stderr()}`);
    await sleep(5);
  }
  worker.child.kill('SIGKILL');
  expect(await worker.exited).toEqual({ code: null, signal: 'SIGKILL' });
}

describe('resumable output: kill -9 and resume', () => {
  it('loses nothing committed and ends byte-identical to the uninterrupted run', async () => {
    const dir = freshDir();
    await killAfter(dir, 3);
    await killAfter(dir, 4);
    const resumed = await openRun(dir, { artifact: 'pruned', total: TOTAL, configFingerprint: FINGERPRINT, resume: true });
    const committed = partsOf(dir).filter((name) => name.endsWith('.arrow')).length;
    expect(committed).toBeGreaterThanOrEqual(7);
    // Every sample of every committed part of 5 is done; the resumed run has only the rest to do.
    expect(resumed.done.size).toBe(committed * 5);
    expect(resumed.todo().length).toBe(TOTAL - committed * 5);
    for (const indices of batchesOf(resumed.todo(), 3)) await resumed.commit(indices.map(resultFor));
    await resumed.finalize(join(dir, 'out.arrow'));
    expect(readFileSync(join(dir, 'out.arrow')).equals(reference)).toBe(true);
  });

  it('removes the temp file of a write cut short, and rejects a damaged part by name', async () => {
    const dir = freshDir();
    await runInProcess(dir, { batch: 4, upTo: 2 });
    writeFileSync(join(dir, 'parts', '.0000000099.arrow.12345.tmp'), 'half a part');
    const run = await openRun(dir, { artifact: 'pruned', total: TOTAL, configFingerprint: FINGERPRINT, resume: true });
    expect(run.done.size).toBe(8);
    expect(partsOf(dir).filter((name) => name.endsWith('.tmp'))).toEqual([]);
    const victim = join(dir, 'parts', partsOf(dir)[0]);
    writeFileSync(victim, readFileSync(victim).subarray(0, 100));
    await expect(openRun(dir, { artifact: 'pruned', total: TOTAL, configFingerprint: FINGERPRINT, resume: true })).rejects.toThrow(
      `${victim} is not a readable part`,
    );
  });
});

describe('resumable output: refusals', () => {
  it('refuses to resume with another configuration, or to restart over an unfinished run', async () => {
    const dir = freshDir();
    await runInProcess(dir, { batch: 4, upTo: 1 });
    await expect(openRun(dir, { artifact: 'pruned', total: TOTAL, configFingerprint: 'other-options', resume: true })).rejects.toThrow(
      /cannot resume the run in .*: the configuration \(data sha256 \+ options\) fingerprint was test-fingerprint-1 and is now other-options/,
    );
    await expect(openRun(dir, { artifact: 'pruned', total: TOTAL + 1, configFingerprint: FINGERPRINT, resume: true })).rejects.toThrow(
      'the number of samples was 120 and is now 121',
    );
    await expect(openRun(dir, { artifact: 'pruned', total: TOTAL, configFingerprint: FINGERPRINT })).rejects.toThrow(
      'holds an unfinished run; resume it (--resume) or choose another directory',
    );
  });

  it('refuses bad commits before writing anything', async () => {
    const dir = freshDir();
    const run = await openRun(dir, { artifact: 'pruned', total: TOTAL, configFingerprint: FINGERPRINT, shard: { index: 1, count: 3 } });
    await expect(run.commit([resultFor(3)])).rejects.toThrow('sample 3 does not belong to shard 1/3');
    await expect(run.commit([resultFor(TOTAL + 1)])).rejects.toThrow('outside the corpus');
    await run.commit([resultFor(1)]);
    await expect(run.commit([resultFor(4), resultFor(1)])).rejects.toThrow('sample 1 is committed twice');
    const bad = resultFor(4) as { index: number; rows: PrunedRow[] };
    bad.rows[0] = { ...bad.rows[0], weight: Number.POSITIVE_INFINITY };
    await expect(run.commit([bad as SampleResult<PrunedRow>])).rejects.toThrow(/cannot commit samples 4: row 0, column "weight": Infinity is not written/);
    expect(partsOf(dir)).toEqual(['0000000001.arrow']);
  });

  it('refuses to finalize an incomplete run or a shard, and to reopen a finished run', async () => {
    const dir = freshDir();
    const run = await runInProcess(dir, { batch: 10, upTo: 2 });
    await expect(run.finalize(join(dir, 'out.arrow'))).rejects.toThrow(/100 of 120 samples are not done \(first: /);
    expect(existsSync(join(dir, 'out.arrow'))).toBe(false);
    const shardDir = freshDir();
    const shard = await runInProcess(shardDir, { batch: 10, shard: { index: 0, count: 2 } });
    await expect(shard.finalize(join(shardDir, 'out.arrow'))).rejects.toThrow('combine the shards with mergeShards');
    const done = await runInProcess(dir, { batch: 10 });
    await done.finalize(join(dir, 'out.arrow'));
    done.close(join(dir, 'out.arrow'));
    await expect(openRun(dir, { artifact: 'pruned', total: TOTAL, configFingerprint: FINGERPRINT, resume: true })).rejects.toThrow(
      /is finished: its output is .*out\.arrow/,
    );
  });
});

describe('resumable output: shards', () => {
  it('parses i/n', () => {
    expect(parseShard('2/4')).toEqual({ index: 2, count: 4 });
    expect(() => parseShard('4/4')).toThrow('--shard must be i/n with 0 <= i < n');
    expect(() => parseShard('1-4')).toThrow('--shard must be i/n');
  });

  it('merges n shards into the file one process would have written', async () => {
    const dirs = [0, 1, 2].map(() => freshDir());
    for (const [i, dir] of dirs.entries()) {
      const run = await runInProcess(dir, { batch: 3 + i, shard: { index: i, count: 3 } });
      expect(run.done.size).toBe(TOTAL / 3);
      expect([...run.done].every((k) => k % 3 === i)).toBe(true);
    }
    const out = join(root, 'merged.arrow');
    const result = await mergeShards([dirs[2], dirs[0], dirs[1]], out);
    expect(result.samples).toBe(TOTAL);
    expect(readFileSync(out).equals(reference)).toBe(true);

    await expect(mergeShards([dirs[0], dirs[1]], out)).rejects.toThrow('shard 2/3 missing from the merge');
    await expect(mergeShards([dirs[0], dirs[0], dirs[1]], out)).rejects.toThrow('are both shard 0/3');
  });

  it('refuses shards of different runs and incomplete shards', async () => {
    const [a, b] = [freshDir(), freshDir()];
    await runInProcess(a, { batch: 5, shard: { index: 0, count: 2 } });
    const other = await openRun(b, { artifact: 'pruned', total: TOTAL, configFingerprint: 'other', shard: { index: 1, count: 2 } });
    for (const indices of batchesOf(other.todo(), 5)) await other.commit(indices.map(resultFor));
    await expect(mergeShards([a, b], join(root, 'x.arrow'))).rejects.toThrow('come from different runs');

    const c = freshDir();
    await runInProcess(c, { batch: 5, shard: { index: 1, count: 2 }, upTo: 3 });
    await expect(mergeShards([a, c], join(root, 'x.arrow'))).rejects.toThrow(/45 of 120 samples are not done/);
    expect(existsSync(join(root, 'x.arrow'))).toBe(false);
  });
});
