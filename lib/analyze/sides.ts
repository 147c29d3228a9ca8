import { realpathSync } from 'node:fs';
import { loadModel, type LoadOptions } from '../models/index.ts';
import type { CausalLM } from '../models/types.ts';
import { loadTokenizer, renderChat, tokenizeChat } from '../text/index.ts';
import type { TextTokenizer } from '../text/types.ts';
import type { ModelSide } from './prepare.ts';

/** A model and its tokenizer, rendering samples with the tokenizer's chat template. */
export function modelSide(role: ModelSide['role'], model: CausalLM, tokenizer: TextTokenizer): ModelSide {
  if (tokenizer.vocabSize > model.config.vocabSize)
    throw new Error(`${role}: the tokenizer (${tokenizer.source}) has ${tokenizer.vocabSize} ids but the model (${model.source}) only ${model.config.vocabSize} embeddings`);
  return {
    role,
    model,
    tokenizer,
    tokenize: (user, response) => tokenizeChat(tokenizer, renderChat(tokenizer, user, response)),
    padId: tokenizer.padTokenId ?? tokenizer.eosTokenIds[0] ?? 0,
  };
}

/** Load a checkpoint directory that holds both the weights and the tokenizer files. */
export async function loadSide(role: ModelSide['role'], dir: string, options: LoadOptions = {}): Promise<ModelSide> {
  const tokenizer = await loadTokenizer(dir);
  const model = await loadModel(dir, options);
  try {
    return modelSide(role, model, tokenizer);
  } catch (error) {
    model.dispose();
    throw error;
  }
}

/** Whether two checkpoint paths name one folder (then it is loaded once and serves both roles). */
export function sameCheckpoint(a: string, b: string): boolean {
  return realpathSync(a) === realpathSync(b);
}

/** Teacher and student, the student sharing the teacher's model when both are one folder (frozen, so sharing is safe). */
export async function loadSides(teacherDir: string, studentDir: string, options: Partial<Record<'teacher' | 'student', LoadOptions>> = {}): Promise<{ teacher: ModelSide; student: ModelSide; dispose(): void }> {
  const teacher = await loadSide('teacher', teacherDir, options.teacher);
  if (sameCheckpoint(teacherDir, studentDir)) {
    return { teacher, student: modelSide('student', teacher.model, teacher.tokenizer), dispose: () => teacher.model.dispose() };
  }
  const student = await loadSide('student', studentDir, options.student).catch((error) => {
    teacher.model.dispose();
    throw error;
  });
  return { teacher, student, dispose: () => (teacher.model.dispose(), student.model.dispose()) };
}
