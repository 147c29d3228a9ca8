import { spawnSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getAttributionMethod, registerAttributionMethod } from '../lib/attribution/index.ts';
import { runAnalyze } from '../lib/analyze/index.ts';
import { readAttributions } from '../lib/corpus/index.ts';
import { promptIds } from '../lib/eval/accuracy.ts';
import { greedyGenerate, loadModel } from '../lib/models/index.ts';
import { loadTokenizer } from '../lib/text/index.ts';
import { analyzeOptions, corpusLines, writeAnalyzeFixture, writeCorpus, type AnalyzeFixture } from './helpers/analyze-fixtures.ts';

let fixture: AnalyzeFixture;
const good = corpusLines(4);

beforeAll(() => {
  fixture = writeAnalyzeFixture();
});

const BAD_RECORDS: [kind: string, line: string, message: RegExp][] = [
  ['invalid JSON', '{"id": "b", "instruction": "tom', /:3: invalid JSON/],
  ['missing field', JSON.stringify({ id: 'b', instruction: 'tom has apples' }), /:3: missing field "output"/],
  ['non-string field', JSON.stringify({ id: 'b', instruction: 42, output: 'two' }), /:3: field "instruction" must be a string, got a number/],
  ['empty text', JSON.stringify({ id: 'b', instruction: 'tom', output: '   ' }), /:3: field "output" is empty/],
  ['duplicate id', JSON.stringify({ id: 'q0', instruction: 'tom', output: 'two' }), /:3: duplicate id "q0"/],
  ['not an object', '[1, 2]', /:3: record must be an object/],
  ['bad id', JSON.stringify({ id: null, instruction: 'tom', output: 'two' }), /:3: id field "id" must be a non-empty string or an integer/],
];

afterAll(() => rmSync(fixture.root, { recursive: true, force: true }));

describe('bad input', () => {
  for (const [kind, line, message] of BAD_RECORDS) {
    it(`${kind}: fails with file, line and reason, and writes nothing`, async () => {
      const data = writeCorpus(fixture.root, `bad-${kind.replace(/ /g, '-')}.jsonl`, [good[0], good[1], line, good[2]]);
      const out = join(fixture.root, `out-${kind.replace(/ /g, '-')}`);
      const error = await runAnalyze(analyzeOptions(fixture, data, out)).catch((e: Error) => e);
      expect(error).toBeInstanceOf(Error);
      expect((error as Error).message).toContain(data);
      expect((error as Error).message).toMatch(message);
      expect(existsSync(out)).toBe(false);
    });
  }

  it('--on-error skip: bad records are listed in the manifest, the rest is analysed', async () => {
    const lines = [good[0], ...BAD_RECORDS.map(([, line]) => line), good[1]];
    const data = writeCorpus(fixture.root, 'all-bad.jsonl', lines);
    const result = await runAnalyze(analyzeOptions(fixture, data, join(fixture.root, 'out-skip'), { onError: 'skip' }));
    expect((await readAttributions(result.attributions!)).map((r) => r.id)).toEqual(['q0', 'q1']);
    const reasons = result.manifest.counts.skipped.map((s) => s.reason);
    expect(reasons).toHaveLength(BAD_RECORDS.length);
    BAD_RECORDS.forEach(([, , message], k) => expect(reasons[k]).toMatch(new RegExp(message.source.replace(':3:', `:${k + 2}:`))));
  });

  it('a missing model directory is named, and nothing is written', async () => {
    const data = writeCorpus(fixture.root, 'ok.jsonl', good);
    const out = join(fixture.root, 'out-nomodel');
    await expect(runAnalyze({ ...analyzeOptions(fixture, data, out), teacher: join(fixture.root, 'nope') })).rejects.toThrow(/nope/);
    expect(existsSync(out)).toBe(false);
  });

  it('the CLI exits non-zero with the message on stderr', () => {
    const data = writeCorpus(fixture.root, 'cli-bad.jsonl', [good[0], '{oops']);
    const out = join(fixture.root, 'out-cli');
    const run = spawnSync(process.execPath, ['bin/leaf.js', 'analyze', '--teacher', fixture.teacher, '--student', fixture.student, '--data', data, '--out', out, '--backend', 'cpu', '--no-progress'], { encoding: 'utf8' });
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/cli-bad\.jsonl:2: invalid JSON/);
    expect(run.stderr).toMatch(/use --on-error skip/);
    expect(existsSync(out)).toBe(false);
  }, 60_000);
});

describe('numeric guard', () => {
  it('NaN/Inf scores mark the sample failed with a reason; its rows are never written', async () => {
    const tokenizer = await loadTokenizer(fixture.teacher);
    const poison = tokenizer.tokenToId('left')!;
    const grad = getAttributionMethod('grad-l2');
    registerAttributionMethod({
      name: 'test-poisoned',
      description: 'grad-l2, but NaN on samples holding the word "left"',
      score: (model, inputs, options) =>
        grad.score(model, inputs, options).map((result, b) => (inputs[b].ids.includes(poison) ? { ...result, scores: result.scores.map(() => NaN) } : result)),
    });
    const lines = [0, 1, 2, 3].map((i) => JSON.stringify({ id: `n${i}`, instruction: i % 2 ? 'tom has left two apples' : 'tom has two apples', output: 'so two .' }));
    const data = writeCorpus(fixture.root, 'nan.jsonl', lines);
    const result = await runAnalyze(analyzeOptions(fixture, data, join(fixture.root, 'out-nan'), { method: 'test-poisoned' }));
    expect((await readAttributions(result.attributions!)).map((r) => r.id)).toEqual(['n0', 'n2']);
    expect(result.manifest.counts.skipped).toEqual([
      { index: 1, id: 'n1', reason: expect.stringMatching(/^numeric failure: teacher score of token \d+ is NaN$/) },
      { index: 3, id: 'n3', reason: expect.stringMatching(/^numeric failure: teacher score of token \d+ is NaN$/) },
    ]);
    expect(result.manifest.counts.done).toBe(2);
  });
});

describe('--select teacher-correct-student-wrong', () => {
  it('analyses exactly the samples the teacher answers right and the student wrong', async () => {
    const tokenizer = await loadTokenizer(fixture.teacher);
    const instructions = ['tom has two apples', 'ann has red pears', 'how many apples does she have', 'the sky is blue', 'note that he left', 'so how many pears'];
    const answers = async (dir: string) => {
      const model = await loadModel(dir);
      const out = greedyGenerate(model, instructions.map((i) => promptIds(tokenizer, i)), { maxNewTokens: 4, eosTokenIds: tokenizer.eosTokenIds });
      model.dispose();
      return out.map((ids) => tokenizer.decode(ids, { skipSpecialTokens: true }));
    };
    const teacherSays = await answers(fixture.teacher);
    const studentSays = await answers(fixture.student);
    // Gold = the teacher's own answer for even samples (teacher right), the student's for odd ones.
    const gold = instructions.map((_, i) => (i % 2 === 0 ? teacherSays[i] : studentSays[i]));
    const expected = instructions.map((_, i) => `s${i}`).filter((_, i) => gold[i] === teacherSays[i] && gold[i] !== studentSays[i]);
    expect(expected.length).toBeGreaterThan(0);
    const lines = instructions.map((instruction, i) => JSON.stringify({ id: `s${i}`, instruction, output: 'so two .\nthe answer .', answer: gold[i] }));
    const data = writeCorpus(fixture.root, 'select.jsonl', lines);
    const result = await runAnalyze(
      analyzeOptions(fixture, data, join(fixture.root, 'out-select'), { select: 'teacher-correct-student-wrong', checker: 'exact', maxNewTokens: 4 }),
    );
    expect((await readAttributions(result.attributions!)).map((r) => r.id)).toEqual(expected);
    for (const skip of result.manifest.counts.skipped) {
      const i = Number(skip.id!.slice(1));
      expect(skip.reason).toBe(gold[i] !== teacherSays[i] ? 'not selected: teacher answers wrong' : 'not selected: student answers right');
    }
  });
});
