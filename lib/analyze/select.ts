import type { Sample } from '../corpus/types.ts';
import { answerAccuracy } from '../eval/accuracy.ts';
import type { AnswerChecker } from '../eval/checkers/index.ts';
import type { ModelSide } from './prepare.ts';

export interface SelectionSettings {
  checker: AnswerChecker;
  maxNewTokens: number;
  batchSize: number;
}

export interface Selection {
  selected: Sample[];
  /** Samples left out, with why. */
  rejected: { sample: Sample; reason: string }[];
}

/**
 * The paper's sample choice: keep the samples the teacher answers correctly and the student does
 * not, by greedy generation (KV cache) and an answer checker. Gold = the answer field, else the
 * reference response.
 */
export function selectTeacherCorrectStudentWrong(samples: Sample[], teacher: ModelSide, student: ModelSide, settings: SelectionSettings): Selection {
  const itemOf = (s: Sample) => ({ id: s.id, instruction: s.instruction, input: s.input, answer: s.answer !== '' ? s.answer : s.output });
  const judge = (side: ModelSide, group: Sample[]) =>
    answerAccuracy(side.model, side.tokenizer, group.map(itemOf), settings.checker, { maxNewTokens: settings.maxNewTokens, batchSize: settings.batchSize }).map(
      (p) => p.correct,
    );
  const selection: Selection = { selected: [], rejected: [] };
  const teacherRight = judge(teacher, samples);
  // The student only needs to answer where the teacher is right.
  const candidates = samples.filter((_, i) => teacherRight[i]);
  const studentRight = new Map(judge(student, candidates).map((right, k) => [candidates[k], right]));
  for (const sample of samples) {
    const studentAnswer = studentRight.get(sample);
    if (studentAnswer === false) selection.selected.push(sample);
    else selection.rejected.push({ sample, reason: studentAnswer === undefined ? 'not selected: teacher answers wrong' : 'not selected: student answers right' });
  }
  return selection;
}
