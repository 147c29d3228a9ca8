import type { DecoderConfig } from '../models/types.ts';
import type { TextTokenizer } from '../text/types.ts';
import { MASKED_LOGIT } from './losses/index.ts';

export type VocabMode = 'strict' | 'intersect';

export interface ModelSide {
  label: string;
  config: DecoderConfig;
  tokenizer: TextTokenizer;
}

/**
 * How teacher logits map onto the student's vocabulary. Losses always run in the student's id
 * space: in `identity` the teacher's logits are used as they are; in `intersect` column s of the
 * student takes the teacher's column for the same token string, and tokens only one side has are
 * masked on both sides (the distributions renormalise over the shared sub-vocabulary).
 */
export interface VocabMap {
  mode: 'identity' | 'intersect';
  /** Tokens both sides can score. */
  shared: number;
  /** intersect only: teacher column for each student id (0 where not shared; masked anyway). */
  teacherColumns?: Int32Array;
  /** intersect only: 0 on shared student ids, MASKED_LOGIT elsewhere. */
  studentBias?: Float32Array;
  /** Are two target tokens the same token? (ids in identity mode, strings in intersect mode.) */
  sameToken(studentId: number, teacherId: number): boolean;
}

export function buildVocabMap(student: ModelSide, teacher: ModelSide, mode: VocabMode): VocabMap {
  return mode === 'strict' ? identityMap(student, teacher) : intersectMap(student, teacher);
}

function identityMap(student: ModelSide, teacher: ModelSide): VocabMap {
  const hint = 'pass --vocab-map intersect to distil over the tokens both vocabularies share';
  if (student.config.vocabSize !== teacher.config.vocabSize)
    throw new Error(`vocabulary mismatch: teacher ${teacher.label} has ${teacher.config.vocabSize} logits, student ${student.label} has ${student.config.vocabSize}; ${hint} (leaf never truncates logits)`);
  const size = Math.max(student.tokenizer.vocabSize, teacher.tokenizer.vocabSize);
  for (let id = 0; id < size; id++) {
    const s = student.tokenizer.idToToken(id);
    const t = teacher.tokenizer.idToToken(id);
    if (s !== t)
      throw new Error(`vocabulary mismatch: token id ${id} is ${JSON.stringify(t)} for teacher ${teacher.label} but ${JSON.stringify(s)} for student ${student.label}; ${hint}`);
  }
  return { mode: 'identity', shared: student.config.vocabSize, sameToken: (s, t) => s === t };
}

function intersectMap(student: ModelSide, teacher: ModelSide): VocabMap {
  const vocab = student.config.vocabSize;
  const teacherColumns = new Int32Array(vocab);
  const studentBias = new Float32Array(vocab).fill(MASKED_LOGIT);
  let shared = 0;
  for (let id = 0; id < vocab; id++) {
    const token = student.tokenizer.idToToken(id);
    if (token === undefined) continue;
    const column = teacher.tokenizer.tokenToId(token);
    if (column === undefined || column >= teacher.config.vocabSize) continue;
    teacherColumns[id] = column;
    studentBias[id] = 0;
    shared++;
  }
  if (shared === 0)
    throw new Error(`--vocab-map intersect: teacher ${teacher.label} and student ${student.label} share no token strings`);
  const sameToken = (s: number, t: number) => {
    const token = student.tokenizer.idToToken(s);
    return token !== undefined && token === teacher.tokenizer.idToToken(t) && studentBias[s] === 0;
  };
  return { mode: 'intersect', shared, teacherColumns, studentBias, sameToken };
}
