/**
 * How far attributions from 16-bit-held weights are from the same checkpoint widened to float32
 * on load (the README's figure for "Memory"):
 *
 *   flock /work/locks/mem.lock node --import tsx analyses/held-vs-float32.ts --model DIR [--length 250]
 *
 * Loads DIR twice (held as stored, and float32), scores one rendered sample of about --length
 * tokens with ‖∂ℓ/∂e_i‖₂ (grad-l2) and prints the largest relative difference of the scores, of
 * their min-max normalisation (what Δ is built from) and of the response NLL. Both multiply the
 * same widened values; only the float32 summation order of the panel GEMM differs.
 */
import { parseArgs } from 'node:util';
import { embeddingGradNorms, loadDecoder } from '../lib/models/index.ts';
import { initRuntime } from '../lib/runtime/index.ts';
import { loadTokenizer, renderChat, tokenizeChat } from '../lib/text/index.ts';

const { values } = parseArgs({ options: { model: { type: 'string' }, length: { type: 'string', default: '250' } } });
if (!values.model) throw new Error('usage: held-vs-float32.ts --model DIR [--length 250]');
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

const scores: Array<{ norms: number[]; nll: number[] }> = [];
for (const hold of ['stored', 'float32'] as const) {
  const model = loadDecoder(values.model, { hold });
  const started = performance.now();
  const { norms, nll } = embeddingGradNorms(model, ids, targetMask);
  process.stderr.write(`${hold} (${model.heldDtype}): ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
  scores.push({ norms: chat.instructionTokens.map((i) => norms[0][i]), nll });
  model.dispose();
}
const [held, wide] = scores;
console.log(`T = ${ids[0].length} tokens, ${chat.instructionTokens.length} instruction tokens scored`);
console.log(`max relative difference, held vs float32: scores ${maxRelative(held.norms, wide.norms).toExponential(2)}, ` +
  `normalised scores ${maxRelative(normalise(held.norms), normalise(wide.norms)).toExponential(2)}, NLL ${maxRelative(held.nll, wide.nll).toExponential(2)}`);
