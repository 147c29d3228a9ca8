import * as tf from '@tensorflow/tfjs-core';
import { userMessage } from '../corpus/prompt.ts';
import { AdamW } from '../distill/optim/adamw.ts';
import { globalNormScale } from '../distill/optim/clip.ts';
import { getSchedule, learningRate } from '../distill/optim/schedules/index.ts';
import { Prng } from '../distill/data/prng.ts';
import { responseLossFromEmbeds, responseTargets } from '../models/index.ts';
import type { CausalLM } from '../models/types.ts';
import { renderChat, tokenizeChat } from '../text/index.ts';
import type { TextTokenizer } from '../text/types.ts';

/**
 * Language-model training from scratch (CE on the response): what base models need before there is
 * a teacher to distil from. `leaf distill` always runs a teacher, so this loop reuses its parts
 * (AdamW, clipping, schedules, PRNG) and the models' response loss instead of faking a teacher.
 */

/** One rendered chat: token ids and the positions whose token is supervised. */
export interface LmExample {
  ids: number[];
  /** Response tokens and the closing tokens of the turn (so the model learns to stop). */
  targets: number[];
}

export interface LmTrainOptions {
  steps: number;
  batchSize: number;
  lr: number;
  warmupSteps: number;
  schedule: string;
  weightDecay: number;
  maxGradNorm: number;
  seed: number;
}

export interface LmStep {
  step: number;
  loss: number;
  lr: number;
  gradNorm: number;
  seconds: number;
}

/** Renders (instruction, output) pairs with the tokenizer's chat template. */
export function encodeLmExamples(tokenizer: TextTokenizer, samples: readonly { instruction: string; input?: string; output: string }[]): LmExample[] {
  return samples.map((sample) => {
    const chat = tokenizeChat(tokenizer, renderChat(tokenizer, userMessage({ instruction: sample.instruction, input: sample.input ?? '' }), sample.output));
    return { ids: chat.encoding.ids, targets: [...chat.responseTokens, ...chat.responseEndTokens] };
  });
}

interface Batch {
  ids: number[][];
  targetMask: number[][];
  attentionMask: number[][];
}

/** Right-padded batch (padding never precedes a target, which the response loss requires). */
function collate(examples: LmExample[], padId: number): Batch {
  const length = Math.max(...examples.map((e) => e.ids.length));
  const batch: Batch = { ids: [], targetMask: [], attentionMask: [] };
  for (const example of examples) {
    const pad = length - example.ids.length;
    const mask = new Array<number>(length).fill(0);
    for (const t of example.targets) mask[t] = 1;
    batch.ids.push([...example.ids, ...new Array<number>(pad).fill(padId)]);
    batch.targetMask.push(mask);
    batch.attentionMask.push([...new Array<number>(example.ids.length).fill(1), ...new Array<number>(pad).fill(0)]);
  }
  return batch;
}

/**
 * Trains `model` (loaded or created trainable) in place: each step takes the next `batchSize`
 * examples of a seeded shuffle (reshuffled every epoch) and minimises the batch mean of the
 * per-sample mean response NLL.
 */
export function trainLanguageModel(model: CausalLM, examples: readonly LmExample[], padId: number, options: LmTrainOptions, onStep?: (step: LmStep) => void): LmStep[] {
  if (examples.length < options.batchSize) throw new Error(`trainLanguageModel: ${examples.length} examples, fewer than one batch of ${options.batchSize}`);
  const schedule = getSchedule(options.schedule);
  const scheduleParams = { baseLr: options.lr, warmupSteps: options.warmupSteps, totalSteps: options.steps };
  const optimizer = new AdamW(model.weights, { beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: options.weightDecay });
  const prng = Prng.fromSeed(options.seed);
  const names = new Map([...model.weights].map(([name, variable]) => [variable.name, name]));
  let order: number[] = [];
  const history: LmStep[] = [];
  try {
    for (let step = 0; step < options.steps; step++) {
      if (order.length < options.batchSize) order = prng.shuffle(examples.map((_, i) => i));
      const batch = collate(order.splice(0, options.batchSize).map((i) => examples[i]), padId);
      const started = performance.now();
      const targets = responseTargets(batch.ids, batch.targetMask, batch.attentionMask, model.config.vocabSize);
      const { value, grads } = tf.variableGrads(() => {
        const ids = tf.tensor2d(batch.ids, undefined, 'int32');
        const mask = tf.tensor2d(batch.attentionMask, undefined, 'int32');
        const { loss } = responseLossFromEmbeds(model, model.embed(ids), targets, mask);
        return tf.div(loss, batch.ids.length) as tf.Scalar;
      }, [...model.weights.values()]);
      const byName = new Map(Object.entries(grads).map(([variable, grad]) => [names.get(variable)!, grad]));
      const clip = globalNormScale(byName, options.maxGradNorm);
      const lr = learningRate(schedule, scheduleParams, step);
      optimizer.step(byName, lr, clip.scale);
      tf.dispose([...byName.values()]);
      const loss = (value.dataSync() as Float32Array)[0];
      value.dispose();
      if (!Number.isFinite(loss)) throw new Error(`trainLanguageModel: loss became ${loss} at step ${step + 1}; lower the learning rate`);
      const record = { step: step + 1, loss, lr, gradNorm: clip.norm, seconds: (performance.now() - started) / 1000 };
      history.push(record);
      onStep?.(record);
    }
  } finally {
    optimizer.dispose();
  }
  return history;
}
