import * as tf from '@tensorflow/tfjs-core';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { analyzeDefaults, runAnalyze, type AnalyzeOptions } from '../lib/analyze/index.ts';
import { readAttributions, readPruned } from '../lib/corpus/index.ts';
import { userMessage } from '../lib/corpus/prompt.ts';
import { registerChecker } from '../lib/eval/checkers/registry.ts';
import { createRandomModel, saveModel } from '../lib/models/index.ts';
import { mergePruneShards, prune, pruneDefaults, pruneShard, runDirFor, type PruneOptions } from '../lib/pruning/index.ts';
import { initRuntime } from '../lib/runtime/index.ts';
import { launch, launchLayout, launchStatus, mergeLaunch } from '../lib/launch/index.ts';
import { buildWordLevelTokenizer, writeTokenizerFiles, WORD_LEVEL_SPECIAL_TOKENS } from '../lib/text/index.ts';
import { writeTinyPair } from './distill-fixtures.ts';
import { attributionRow, reinsert, writeAnalysis, writeJsonl } from './prune-fixtures.ts';

/**
 * Models whose behaviour is set by hand, so the flip is real and known in advance: one layer with
 * uniform attention (zero queries and keys) whose value projection copies the presence of the
 * token "zorp" into a spare "flag" dimension; the LM head answers "3" after <assistant>, or "7"
 * when the flag is up (the student only; the teacher's head ignores the flag), then <eos>.
 */
const WORDS = ['what', 'is', 'two', 'plus', 'one', 'zorp', 'please'];
const VOCAB = [...WORDS, ...'0123456789'];
const id = (token: string) => {
  const special = (WORD_LEVEL_SPECIAL_TOKENS as readonly string[]).indexOf(token);
  return special >= 0 ? special : WORD_LEVEL_SPECIAL_TOKENS.length + VOCAB.indexOf(token);
};
const V = WORD_LEVEL_SPECIAL_TOKENS.length + VOCAB.length;
const HIDDEN = 32;
const FLAG = V; // first dimension no token embedding uses

function writeHandSetModel(dir: string, flagWeight: number): string {
  const model = createRandomModel(
    { modelType: 'llama', vocabSize: V, hiddenSize: HIDDEN, numLayers: 1, numHeads: 1, numKvHeads: 1, intermediateSize: 8, tieWordEmbeddings: false, eosTokenIds: [id('<eos>')], bosTokenId: id('<bos>') },
    1,
  );
  for (const [name, variable] of model.weights) {
    const values = new Float32Array(variable.size);
    const columns = variable.shape[1] ?? 1;
    const set = (row: number, column: number, value: number) => (values[row * columns + column] = value);
    if (name.endsWith('norm.weight')) values.fill(1);
    else if (name === 'model.embed_tokens.weight') for (let t = 0; t < V; t++) set(t, t, 1);
    else if (name.endsWith('v_proj.weight')) set(FLAG, id('zorp'), 1);
    else if (name.endsWith('o_proj.weight')) set(FLAG, FLAG, 1);
    else if (name === 'lm_head.weight') {
      set(id('3'), id('<assistant>'), 10);
      set(id('7'), id('<assistant>'), 9);
      set(id('7'), FLAG, flagWeight);
      set(id('<eos>'), id('3'), 20);
      set(id('<eos>'), id('7'), 20);
    }
    const value = tf.tensor(values, variable.shape);
    variable.assign(value);
    value.dispose();
  }
  saveModel(model, dir);
  model.dispose();
  writeTokenizerFiles(dir, buildWordLevelTokenizer(VOCAB));
  return dir;
}

// Fails the answers of one sample (gold "3.0") while armed: an interruption in the middle of a run.
let interrupt = false;
registerChecker({
  name: 'numeric-interruptible',
  description: 'test checker',
  check: (prediction, answer) => {
    if (interrupt && prediction !== '' && answer === '3.0') throw new Error('interrupted');
    return Number(prediction) === Number(answer);
  },
});

const root = mkdtempSync(join(tmpdir(), 'leaf-prune-verify-'));
const CORPUS = [
  { instruction: 'what is two plus one zorp please', output: '3', answer: '3' },
  { instruction: 'what is two plus one please', output: '3', answer: '3.0' },
  { instruction: 'what is two plus one', output: '3', answer: '3' },
];
let teacher: string;
let student: string;
let data: string;
let analysis: string;
let n = 0;

function options(overrides: Partial<PruneOptions> = {}): PruneOptions {
  return {
    ...pruneDefaults,
    attributions: analysis,
    data,
    out: join(root, `out-${n++}`, 'pruned.arrow'),
    verify: true,
    teacher,
    student,
    checker: 'numeric-interruptible',
    maxNewTokens: 4,
    batchSize: 1,
    backend: 'cpu',
    progress: false,
    ...overrides,
  } as PruneOptions;
}

beforeAll(async () => {
  await initRuntime({ backend: 'cpu', quiet: true });
  teacher = writeHandSetModel(join(root, 'teacher'), 0);
  student = writeHandSetModel(join(root, 'student'), 10);
  data = writeJsonl(join(root, 'data.jsonl'), CORPUS);
  analysis = await writeAnalysis(join(root, 'analysis'), data, [
    attributionRow('0', CORPUS[0].instruction, [{ text: 'zorp', delta: 0 }, { text: 'please', delta: 0.1 }]),
    attributionRow('1', CORPUS[1].instruction, [{ text: 'please', delta: 0 }]),
  ]);
});

describe('leaf prune --verify', () => {
  it('keeps the counterfactual whose span flips the student, drops the one that does not, and reports the flip rate', async () => {
    const before = tf.memory().numTensors;
    const { summary } = await prune(options());
    expect(tf.memory().numTensors).toBe(before);
    const rows = await readPruned(summary.output.path);
    expect(rows.map((r) => [r.id, r.kind, r.instruction, r.verified, r.weight])).toEqual([
      ['0', 'original', 'what is two plus one zorp please', false, 0.5],
      ['0#cf1', 'counterfactual', 'what is two plus one please', true, 0.5],
      ['1', 'original', 'what is two plus one please', true, 0.5],
      ['1#cf1', 'counterfactual', 'what is two plus one', true, 0.5],
      ['2', 'original', 'what is two plus one', null, 1],
    ]);
    expect(rows.map((r) => [r.extra!.teacher_answer, r.extra!.student_answer])).toEqual([
      ['3', '7'],
      ['3', '3'],
      ['3', '3'],
      ['3', '3'],
      [null, null],
    ]);
    expect(summary.verification).toMatchObject({
      checker: 'numeric-interruptible',
      counterfactuals: 3,
      teacher_correct: 3,
      student_correct: 2,
      passed: 2,
      originals: 2,
      teacher_correct_original: 2,
      student_correct_original: 1,
      flip_base: 2,
      flips: 1,
      flip_rate: 0.5,
      samples_student_wrong: 1,
      samples_flipped: 1,
    });
    expect(summary.verification!.pass_rate).toBeCloseTo(2 / 3, 12);
    expect(summary.counterfactuals_written).toBe(2);
    expect(summary.models!.student.architecture).toBe('llama');
    expect(existsSync(runDirFor(summary.output.path))).toBe(false);
  });

  it('--keep-unverified writes the failing counterfactual with verified = false', async () => {
    const { summary } = await prune(options({ keepUnverified: true }));
    const rows = await readPruned(summary.output.path);
    const failing = rows.find((r) => r.id === '0#cf2')!;
    expect(failing).toMatchObject({ instruction: 'what is two plus one zorp', verified: false, weight: 0.25 });
    expect(failing.extra!.student_answer).toBe('7');
    expect(summary.counterfactuals_written).toBe(3);
  });

  it('--resume continues an interrupted run and writes what an uninterrupted run writes', async () => {
    const interrupted = options();
    interrupt = true;
    try {
      await expect(prune(interrupted)).rejects.toThrow(/interrupted/);
    } finally {
      interrupt = false;
    }
    expect(existsSync(interrupted.out)).toBe(false);
    expect(existsSync(join(runDirFor(interrupted.out), 'parts'))).toBe(true);
    await expect(prune(interrupted)).rejects.toThrow(/holds an unfinished run; resume it \(--resume\)/);
    const resumed = await prune({ ...interrupted, resume: true });
    const fresh = await prune(options());
    expect(readFileSync(interrupted.out)).toEqual(readFileSync(fresh.summary.output.path));
    const comparable = (s: typeof resumed.summary) => ({ ...s, created: 0, timings: 0, output: { ...s.output, path: 0 }, command: 0 });
    expect(comparable(resumed.summary)).toEqual(comparable(fresh.summary));
    expect(resumed.summary.verification!.flips).toBe(1);

    // A scheduler reruns the finished job: it succeeds, says so, and rewrites nothing.
    const written = statSync(interrupted.out).mtimeMs;
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      const again = await prune({ ...interrupted, resume: true });
      expect(again.summary).toEqual(JSON.parse(readFileSync(resumed.summaryPath, 'utf8')));
      expect(stderr.mock.calls.map((call) => String(call[0])).join('')).toMatch(/is complete \(.*summary\.json\): nothing to do/);
    } finally {
      stderr.mockRestore();
    }
    expect(statSync(interrupted.out).mtimeMs).toBe(written);
  });
});

describe('leaf prune --verify --shard i/n, leaf merge', () => {
  const comparable = (s: Awaited<ReturnType<typeof prune>>['summary']) => ({ ...s, created: 0, timings: 0, output: { ...s.output, path: 0 }, command: 0 });
  const shardDirs = () => [join(root, `shard-${n++}`), join(root, `shard-${n++}`)];

  it.each([1, 2])('2 shards + merge write the bytes and the summary of one process (batch size %i)', async (batchSize) => {
    const fresh = await prune(options({ keepUnverified: true, batchSize }));
    const dirs = shardDirs();
    for (const [i, out] of dirs.entries()) expect(await pruneShard({ ...options({ keepUnverified: true, batchSize }), shard: `${i}/2`, out })).toMatchObject({ samples: [2, 1][i] });
    const out = join(root, `merged-${n++}`, 'pruned.arrow');
    const merged = await mergePruneShards([dirs[1], dirs[0]], out);
    expect(readFileSync(out).equals(readFileSync(fresh.summary.output.path))).toBe(true);
    expect(comparable(merged.summary)).toEqual(comparable(fresh.summary));
    expect(merged.summaryPath).toBe(join(root, `merged-${n - 1}`, 'summary.json'));
    expect(merged.summary.verification).toMatchObject({ counterfactuals: 3, flips: 1 });
  });

  it('merge --launch joins the shards of a launch into DIR/pruned.arrow and DIR/summary.json, once every shard has its marker', async () => {
    const fresh = await prune(options());
    // A fake sbatch: the launch is recorded as submitted; the shards then run here.
    const bin = join(root, `bin-${n++}`);
    mkdirSync(bin);
    writeFileSync(join(bin, 'sbatch'), '#!/bin/bash\necho "$RANDOM;cluster"\n', { mode: 0o755 });
    const savedPath = process.env.PATH;
    process.env.PATH = `${bin}:${savedPath}`;
    const dir = join(root, `launch-${n++}`);
    try {
      launch({ command: 'prune', out: dir, shards: 2, resume: false, argv: ['--verify'], arrowFormat: 'stream', flags: { executor: 'slurm', dryRun: false, cpusPerTask: 1 } });
    } finally {
      process.env.PATH = savedPath;
    }
    const layout = launchLayout(dir);
    for (const i of [0, 1]) await pruneShard({ ...options(), shard: `${i}/2`, out: layout.shard(i) });
    mkdirSync(layout.markers, { recursive: true });
    writeFileSync(layout.marker(1), 'done\n');
    await expect(mergeLaunch(dir)).rejects.toThrow(`shard 0/2 did not complete (no marker ${layout.marker(0)}; log ${layout.log(0)})`);
    writeFileSync(layout.marker(0), 'done\n');
    const merged = await mergeLaunch(dir);
    expect(merged.command).toBe('prune');
    expect(readFileSync(join(dir, 'pruned.arrow')).equals(readFileSync(fresh.summary.output.path))).toBe(true);
    expect(JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')).output.path).toBe(join(dir, 'pruned.arrow'));
    expect(launchStatus(dir).merged).toBe(true);
  });

  it('refuses shards of other options, an unfinished shard, a missing shard; a shard needs --verify', async () => {
    const dirs = shardDirs();
    await pruneShard({ ...options(), shard: '0/2', out: dirs[0] });
    const out = join(root, `merged-${n++}`, 'pruned.arrow');
    await expect(mergePruneShards([dirs[0]], out)).rejects.toThrow('shard 1/2 missing from the merge');
    await pruneShard({ ...options({ lambda: 0.25 }), shard: '1/2', out: dirs[1] });
    await expect(mergePruneShards(dirs, out)).rejects.toThrow(`${dirs[1]} and ${dirs[0]} are shards of different prune runs`);
    const unfinished = join(root, `shard-${n++}`);
    interrupt = true;
    try {
      await expect(pruneShard({ ...options(), shard: '1/2', out: unfinished })).rejects.toThrow(/interrupted/);
    } finally {
      interrupt = false;
    }
    await expect(mergePruneShards([dirs[0], unfinished], out)).rejects.toThrow(`${unfinished}: no prune-shard.json; a shard of leaf prune --verify writes it when it has finished (resume it with --resume)`);
    await pruneShard({ ...options(), shard: '1/2', out: unfinished, resume: true });
    expect((await mergePruneShards([dirs[0], unfinished], out)).summary.rows).toBe(5);
    expect(existsSync(out)).toBe(true);
    await expect(pruneShard({ ...options({ verify: false, teacher: undefined, student: undefined }), shard: '0/2', out: join(root, 'x') })).rejects.toThrow('--shard only applies with --verify');
  });
});

describe('leaf analyze -> leaf prune', () => {
  it('prunes real attributions (response level, with inputs): counts as documented, every counterfactual round-trips', async () => {
    const dir = join(root, 'analyze');
    const pair = writeTinyPair(join(dir, 'models'));
    const corpus = [
      { instruction: 'ba ca da fa ga', input: 'ha ja ka', output: 'la ma na.\npa qa ra', answer: '1' },
      { instruction: 'pa qa ra sa ta', input: '', output: 'ba ca. da fa\nga ha ja', answer: '2' },
    ];
    const corpusPath = writeJsonl(join(dir, 'data.jsonl'), corpus);
    const out = join(dir, 'analysis');
    const analyzeOptions = { ...analyzeDefaults, method: 'grad-l2', ...pair, data: corpusPath, out, level: 'response', rule: 'percentile:p=0.5', backend: 'cpu', progress: false } as AnalyzeOptions;
    await runAnalyze(analyzeOptions, { command: ['analyze'] });
    const attributions = await readAttributions(join(out, 'attributions.arrow'));
    const spans = attributions.reduce((sum, row) => sum + row.spans.length, 0);
    expect(spans).toBeGreaterThan(0);

    const prunedBy = async (mode: 'span' | 'collective') => {
      const { summary } = await prune({ ...pruneDefaults, attributions: out, data: corpusPath, out: join(dir, mode, 'pruned.jsonl'), mode, progress: false } as PruneOptions);
      return readPruned(summary.output.path);
    };
    const span = await prunedBy('span');
    const collective = await prunedBy('collective');
    expect(span.filter((r) => r.kind === 'counterfactual')).toHaveLength(spans);
    expect(collective.filter((r) => r.kind === 'counterfactual')).toHaveLength(attributions.filter((row) => row.spans.length > 0).length);
    for (const row of [...span, ...collective].filter((r) => r.kind === 'counterfactual')) {
      const source = corpus[Number(row.source_id)];
      if (row.level === 'instruction') {
        expect(reinsert(userMessage(row), row.removed_spans)).toBe(userMessage(source));
        expect(row.output).toBe(source.output);
      } else {
        expect(reinsert(row.output, row.removed_spans)).toBe(source.output);
        expect([row.instruction, row.input]).toEqual([source.instruction, source.input]);
      }
    }
  });
});
