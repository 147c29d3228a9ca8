import type { Sample } from '../corpus/types.ts';
import { answerAccuracy, type AnswerItem } from '../eval/accuracy.ts';
import type { AnswerChecker } from '../eval/checkers/index.ts';
import { loadModel } from '../models/index.ts';
import type { CausalLM } from '../models/types.ts';
import { loadTokenizer } from '../text/index.ts';
import type { TextTokenizer } from '../text/types.ts';
import type { SamplePlan } from './plan.ts';

/**
 * Verification (the paper's figure): both models answer each counterfactual by greedy generation
 * (KV cache, batched), and it is kept only if both are right. The originals of those samples are
 * answered too, for the flip rate (student wrong on the original, right on the counterfactual).
 */

export interface Judge {
  model: CausalLM;
  tokenizer: TextTokenizer;
}

export interface VerifySettings {
  teacher: Judge;
  student: Judge;
  checker: AnswerChecker;
  maxNewTokens: number;
  /** Prompts generated together. */
  batchSize: number;
  /** Called with the number of prompts answered so far by the model at work. */
  onProgress?: (done: number, total: number) => void;
}

export interface Answer {
  correct: boolean;
  /** The generated text (special tokens skipped). */
  text: string;
}

export interface Verdict {
  teacher: Answer;
  student: Answer;
}

export interface SampleVerdicts {
  original: Verdict;
  /** Aligned with plan.counterfactuals. */
  counterfactuals: Verdict[];
}

/** The gold answer the checker compares with: the answer field, else the reference response. */
export const goldAnswer = (sample: Sample) => (sample.answer !== '' ? sample.answer : sample.output);

export async function loadJudge(dir: string): Promise<Judge> {
  const tokenizer = await loadTokenizer(dir);
  const model = await loadModel(dir);
  if (tokenizer.vocabSize > model.config.vocabSize) {
    model.dispose();
    throw new Error(`${dir}: the tokenizer has ${tokenizer.vocabSize} ids but the model only ${model.config.vocabSize} embeddings`);
  }
  return { model, tokenizer };
}

/** Fail before any generation when a gold answer can never be matched by the checker. */
export function checkGoldAnswers(plans: readonly SamplePlan[], checker: AnswerChecker, source: string): void {
  for (const { sample, counterfactuals } of plans) {
    if (counterfactuals.length === 0) continue;
    try {
      checker.check('', goldAnswer(sample));
    } catch (error) {
      throw new Error(`${source}: sample "${sample.id}": ${(error as Error).message}`);
    }
  }
}

/** Answers of both models on the originals and counterfactuals of the plans that have counterfactuals. */
export function verifyPlans(plans: readonly SamplePlan[], settings: VerifySettings): Map<SamplePlan, SampleVerdicts> {
  const verified = plans.filter((plan) => plan.counterfactuals.length > 0);
  const items: AnswerItem[] = verified.flatMap(({ sample, counterfactuals }) => {
    const answer = goldAnswer(sample);
    return [
      { id: sample.id, instruction: sample.instruction, input: sample.input, answer },
      ...counterfactuals.map((cf) => ({ id: `${sample.id} (counterfactual ${cf.key})`, instruction: cf.fields.instruction, input: cf.fields.input, answer })),
    ];
  });
  const answer = (judge: Judge, offset: number) =>
    answerAccuracy(judge.model, judge.tokenizer, items, settings.checker, {
      maxNewTokens: settings.maxNewTokens,
      batchSize: settings.batchSize,
      onBatch: (done) => settings.onProgress?.(offset + done, 2 * items.length),
    }).map((p): Answer => ({ correct: p.correct, text: p.prediction }));
  const teacher = answer(settings.teacher, 0);
  const student = answer(settings.student, items.length);
  const verdicts = new Map<SamplePlan, SampleVerdicts>();
  let at = 0;
  for (const plan of verified) {
    const verdict = () => ({ teacher: teacher[at], student: student[at++] });
    verdicts.set(plan, { original: verdict(), counterfactuals: plan.counterfactuals.map(verdict) });
  }
  return verdicts;
}
