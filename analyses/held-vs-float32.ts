/**
 * How far attributions from 16-bit-held weights are from the same checkpoint widened to float32
 * on load (the README's figure for "Memory"):
 *
 *   flock /work/locks/mem.lock node --import tsx analyses/held-vs-float32.ts --model DIR [--length 250] [--rounds 3]
 *
 * Loads DIR twice (held as stored, and float32), scores one rendered sample of about --length
 * tokens with ‖∂ℓ/∂e_i‖₂ (grad-l2) and prints the largest relative difference of the scores, of
 * their min-max normalisation (what Δ is built from) and of the response NLL. Both multiply the
 * same widened values; only the float32 summation order of the panel GEMM differs.
 * Speed: both models stay loaded and their passes alternate for --rounds rounds, so load changes
 * on a shared machine hit both alike; the first round (mapped pages faulted in) is reported apart
 * from the median of the others, with the load average before and after.
 */
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { embeddingGradNorms, loadDecoder } from '../lib/models/index.ts';
import { initRuntime } from '../lib/runtime/index.ts';
import { loadTokenizer, renderChat, tokenizeChat } from '../lib/text/index.ts';

const { values } = parseArgs({ options: { model: { type: 'string' }, length: { type: 'string', default: '250' }, rounds: { type: 'string', default: '3' } } });
if (!values.model) throw new Error('usage: held-vs-float32.ts --model DIR [--length 250] [--rounds 3]');
const rounds = Number(values.rounds);
if (!Number.isInteger(rounds) || rounds < 1) throw new Error(`--rounds must be a positive integer, got ${values.rounds}`);
await initRuntime({ backend: 'native' });
const tokenizer = await loadTokenizer(values.model);
const words = 'the number of apples left after taking two from the first basket and adding three to the second'.split(' ');
const text = (n: number, seed: number) => Array.from({ length: n }, (_, i) => words[(i * 7 + seed) % words.length]).join(' ');
const half = Math.round(Number(values.length) / 2.2);
const chat = tokenizeChat(tokenizer, renderChat(tokenizer, text(half, 1), text(half, 2)));
const ids = [chat.encoding.ids];
const supervised = new Set(chat.responseTokens);
const targetMask = [ids[0].map((_, i) => (supervised.has(i) ? 1 : 0))];

function maxRelative(actual: number[], reference: number[]): number {
  const scale = Math.max(...reference.map(Math.abs));
  return Math.max(...reference.map((b, i) => Math.abs(actual[i] - b) / Math.max(Math.abs(b), 1e-2 * scale)));
}
const normalise = (xs: number[]) => {
  const lo = Math.min(...xs);
  const hi = Math.max(...xs);
  return xs.map((x) => (x - lo) / (hi - lo || 1));
};

const load = () => loadavg().map((x) => x.toFixed(2)).join(' ');
const loadBefore = load();
const models = (['stored', 'float32'] as const).map((hold) => {
  const started = performance.now();
  const model = loadDecoder(values.model!, { hold });
  process.stderr.write(`load ${hold} (${model.heldDtype}): ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
  return model;
});
const scores: Array<{ norms: number[]; nll: number[] }> = [];
const passes: number[][] = models.map(() => []);
for (let round = 0; round < rounds; round++) {
  models.forEach((model, m) => {
    const started = performance.now();
    const { norms, nll } = embeddingGradNorms(model, ids, targetMask);
    passes[m].push((performance.now() - started) / 1000);
    if (round === 0) scores.push({ norms: chat.instructionTokens.map((i) => norms[0][i]), nll });
  });
}
for (const model of models) model.dispose();
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
models.forEach((model, m) => {
  const [first, ...rest] = passes[m];
  process.stderr.write(`${model.heldDtype}: first pass ${first.toFixed(2)} s` + (rest.length ? `, median of the next ${rest.length} ${median(rest).toFixed(2)} s` : '') + ` (${passes[m].map((x) => x.toFixed(2)).join(', ')})\n`);
});
if (rounds > 1) process.stderr.write(`held / float32 per pass (median after the first): ${(median(passes[0].slice(1)) / median(passes[1].slice(1))).toFixed(2)}; load average before ${loadBefore}, after ${load()}\n`);
const [held, wide] = scores;
console.log(`T = ${ids[0].length} tokens, ${chat.instructionTokens.length} instruction tokens scored`);
console.log(`max relative difference, held vs float32: scores ${maxRelative(held.norms, wide.norms).toExponential(2)}, ` +
  `normalised scores ${maxRelative(normalise(held.norms), normalise(wide.norms)).toExponential(2)}, NLL ${maxRelative(held.nll, wide.nll).toExponential(2)}`);
