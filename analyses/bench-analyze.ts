/**
 * Benchmark of `leaf analyze` against the same algorithm in PyTorch on this machine.
 *
 *   node --import tsx analyses/bench-analyze.ts [--samples 8] [--backend native]
 *
 * Random-weight Llama-shape checkpoints (teacher 12 layers × 768, student 6 × 512, vocab 32000,
 * untied heads) share a word-level tokenizer; every sample renders to T ≈ 256 tokens. leaf runs
 * the full `leaf analyze` pipeline (grad-l2, batch 1 as the authors' scripts do) in this process;
 * analyses/bench-analyze-torch.py runs the same passes on the same weights and token ids with
 * /usr/bin/python3 (torch 1.13), with as many threads as leaf's backend uses. Prints samples/s,
 * tokens/s, the ratio leaf / PyTorch, and how far leaf's Δ are from PyTorch's.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { analyzeDefaults, paperMethod, runAnalyze } from '../lib/analyze/index.ts';
import { readAttributions } from '../lib/corpus/index.ts';
import { writeRandomCheckpoint } from '../lib/models/index.ts';
import type { CausalLM } from '../lib/models/types.ts';
import { buildWordLevelTokenizer, loadTokenizer, writeTokenizerFiles } from '../lib/text/index.ts';
import { preparedInputs } from './prepared-inputs.ts';

const { values } = parseArgs({ options: { samples: { type: 'string', default: '8' }, backend: { type: 'string', default: 'native' } } });
const N = Number(values.samples);
const VOCAB = 32000;
const WORDS = 'the a of to and in is was he she it they we you that this for on with as at by from count number apples pears sum total left right first then so answer step add take'.split(' ');

function llama(hidden: number, layers: number, heads: number, intermediate: number) {
  return {
    model_type: 'llama', vocab_size: VOCAB, hidden_size: hidden, intermediate_size: intermediate, num_hidden_layers: layers,
    num_attention_heads: heads, num_key_value_heads: heads, max_position_embeddings: 1024, rms_norm_eps: 1e-5,
    rope_theta: 10000, tie_word_embeddings: false, bos_token_id: 2, eos_token_id: 3,
  };
}

function text(words: number, seed: number): string {
  return Array.from({ length: words }, (_, i) => WORDS[(i * 7 + seed * 13 + ((i * i) % 5)) % WORDS.length]).join(' ');
}

const root = mkdtempSync(join(tmpdir(), 'leaf-bench-analyze-'));
try {
  const teacherDir = join(root, 'teacher');
  const studentDir = join(root, 'student');
  const tokenizerFiles = buildWordLevelTokenizer(WORDS);
  process.stderr.write('writing random checkpoints (teacher 12×768, student 6×512)…\n');
  writeRandomCheckpoint(teacherDir, llama(768, 12, 12, 2048), 1);
  writeRandomCheckpoint(studentDir, llama(512, 6, 8, 1408), 2);
  writeTokenizerFiles(teacherDir, tokenizerFiles);
  writeTokenizerFiles(studentDir, tokenizerFiles);
  const data = join(root, 'corpus.jsonl');
  writeFileSync(data, Array.from({ length: N }, (_, i) => JSON.stringify({ instruction: text(124, i), output: text(124, i + 100) })).join('\n') + '\n');

  // The token ids PyTorch gets: exactly what leaf renders (same tokenizer for both models).
  const tokenizer = await loadTokenizer(teacherDir);
  const inputs = await preparedInputs(tokenizer, data, 4096);
  const tokens = inputs.reduce((n, x) => n + x.ids.length, 0);

  process.stderr.write(`leaf analyze: ${N} samples, T ≈ ${Math.round(tokens / N)} …\n`);
  const options = { ...analyzeDefaults, ...paperMethod, teacher: teacherDir, student: studentDir, data, batchSize: 1, progress: false, backend: values.backend as never };
  // One sample first, like the PyTorch side's warm-up pass (JIT, kernel caches, allocator).
  await runAnalyze({ ...options, out: join(root, 'warm-up'), limit: 1 });
  const result = await runAnalyze({ ...options, out: join(root, 'out') });
  const { timings } = result.manifest;
  const rows = await readAttributions(result.attributions!);

  process.stderr.write('PyTorch …\n');
  const specPath = join(root, 'torch.json');
  const threads = Number(process.env.OPENBLAS_NUM_THREADS ?? 2);
  writeFileSync(specPath, JSON.stringify({ teacher: teacherDir, student: studentDir, threads, samples: inputs.map(({ ids, targets, scored }) => ({ ids, targets, scored })) }));
  const py = spawnSync('/usr/bin/python3', [join(import.meta.dirname, 'bench-analyze-torch.py'), specPath], { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (py.status !== 0) throw new Error(`PyTorch reference failed: ${py.stderr}`);
  const torch = JSON.parse(py.stdout) as { sample_s: number[]; deltas: number[][]; threads: number; torch: string };
  const torchSeconds = torch.sample_s.reduce((a, b) => a + b, 0);

  let maxDiff = 0;
  rows.forEach((row, i) => row.delta.forEach((d, k) => (maxDiff = Math.max(maxDiff, Math.abs(d - torch.deltas[i][k])))));
  const endToEnd = timings.total - timings.load;
  const line = (label: string, seconds: number) =>
    `${label.padEnd(44)} ${(N / seconds).toFixed(3).padStart(8)} samples/s ${Math.round(tokens / seconds).toString().padStart(7)} tokens/s`;
  console.log(`backend ${result.manifest.backend}; PyTorch ${torch.torch} with ${torch.threads} threads; ${N} samples, ${tokens} tokens`);
  console.log(line('leaf analyze, end to end (without model load)', endToEnd));
  console.log(line('leaf analyze, attribution passes only', timings.score));
  console.log(line('PyTorch, attribution passes (warm)', torchSeconds));
  console.log(`ratio leaf / PyTorch: ${(torchSeconds / endToEnd).toFixed(2)}× end to end, ${(torchSeconds / timings.score).toFixed(2)}× passes only (goal ≥ 1.0×)`);
  console.log(`max |Δ_leaf − Δ_PyTorch| over ${rows.reduce((n, r) => n + r.delta.length, 0)} tokens: ${maxDiff.toExponential(2)}`);
} finally {
  rmSync(root, { recursive: true, force: true });
}
