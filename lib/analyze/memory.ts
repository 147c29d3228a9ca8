// Pre-flight for `leaf analyze`: before any model is loaded, the memory the run needs (weights as
// they will be held, the backward pass of the longest batch) is printed, and a run that would not
// fit is refused with the numbers and what to change.
import { holdCandidate } from '../models/index.ts';
import { checkMemory, estimateAnalyzeMemory, memoryLimit, planHolds, printEstimate, type HoldDecision, type MemoryEstimate } from '../runtime/memory.ts';
import { loadTokenizer, renderChat } from '../text/index.ts';
import { userMessage } from '../corpus/prompt.ts';
import type { Sample } from '../corpus/types.ts';
import type { AnalyzeOptions } from './options.ts';
import { sameCheckpoint } from './sides.ts';
import { getAttributionMethod } from '../attribution/index.ts';

/** Longest rendered sample in tokens over both tokenizers, capped at --max-length (longer ones are skipped or truncated). */
async function longestSample(options: Pick<AnalyzeOptions, 'teacher' | 'student' | 'maxLength'>, samples: Sample[]): Promise<number> {
  const dirs = sameCheckpoint(options.teacher, options.student) ? [options.teacher] : [options.teacher, options.student];
  let longest = 1;
  for (const dir of dirs) {
    const tokenizer = await loadTokenizer(dir);
    for (const sample of samples) {
      try {
        longest = Math.max(longest, tokenizer.encode(renderChat(tokenizer, userMessage(sample), sample.output).text, { addSpecialTokens: false }).ids.length);
      } catch {
        // a sample that cannot be rendered is skipped or fails later, with its own message
      }
      if (longest >= options.maxLength) return options.maxLength;
    }
  }
  return longest;
}

/** How each model is held: the teacher's decision serves the student too when both are one folder. */
export type AnalyzeHolds = Record<'teacher' | 'student', HoldDecision>;

/**
 * Decides how each model is held and whether layers are recomputed, prints the estimate and the
 * holds, and refuses a run that cannot fit. Fastest first: every layer's activations kept for the
 * backward pass, with (under `--hold auto`) both models widened to float32, then the larger held
 * as stored, then both; only when none of these fits are layers recomputed in the backward pass
 * (slower by about one forward pass, same numbers) — a held product costs less than that.
 */
export async function checkAnalyzeMemory(options: AnalyzeOptions, samples: Sample[], backend: string): Promise<{ estimate: MemoryEstimate; recompute: boolean; holds: AnalyzeHolds }> {
  const same = sameCheckpoint(options.teacher, options.student);
  const candidates = same ? [holdCandidate('teacher', options.teacher)] : [holdCandidate('teacher', options.teacher), holdCandidate('student', options.student)];
  const batchSize = Math.min(options.batchSize, Math.max(samples.length, 1));
  const maxLength = await longestSample(options, samples);
  const limit = memoryLimit(backend, options.memoryLimitGb);
  const { estimate, recompute, holds } = planHolds(candidates, options.hold ?? 'auto', limit,
    ([teacher, student], recompute) => estimateAnalyzeMemory({ teacher, student, batchSize, maxLength, recompute, keyValues: getAttributionMethod(options.method).keepsKeyValues }), [false, true]);
  if (options.progress) printEstimate(estimate, limit, holds);
  checkMemory(estimate, limit);
  return { estimate, recompute, holds: { teacher: holds[0], student: holds[1] ?? holds[0] } };
}
