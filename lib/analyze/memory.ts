// Pre-flight for `leaf analyze`: before any model is loaded, the memory the run needs (weights as
// they will be held, the backward pass of the longest batch) is printed, and a run that would not
// fit is refused with the numbers and what to change.
import { heldWeights } from '../models/index.ts';
import { checkMemory, estimateAnalyzeMemory, memoryLimit, printEstimate, type MemoryEstimate } from '../runtime/memory.ts';
import { loadTokenizer, renderChat } from '../text/index.ts';
import { userMessage } from '../corpus/prompt.ts';
import type { Sample } from '../corpus/types.ts';
import type { AnalyzeOptions } from './options.ts';
import { sameCheckpoint } from './sides.ts';

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

/**
 * Prints the estimate and refuses a run that cannot fit. When keeping every layer's activations
 * for the backward pass would not fit but recomputing them would, the run recomputes (slower by
 * about one forward pass, same numbers) and the returned flag says so.
 */
export async function checkAnalyzeMemory(options: AnalyzeOptions, samples: Sample[], backend: string): Promise<{ estimate: MemoryEstimate; recompute: boolean }> {
  const same = sameCheckpoint(options.teacher, options.student);
  const shape = {
    teacher: heldWeights(options.teacher),
    student: same ? undefined : heldWeights(options.student),
    batchSize: Math.min(options.batchSize, Math.max(samples.length, 1)),
    maxLength: await longestSample(options, samples),
  };
  const limit = memoryLimit(backend, options.memoryLimitGb);
  let recompute = false;
  let estimate = estimateAnalyzeMemory({ ...shape, recompute });
  if (estimate.total > limit.bytes) {
    recompute = true;
    estimate = estimateAnalyzeMemory({ ...shape, recompute });
  }
  if (options.progress) printEstimate(estimate, limit);
  checkMemory(estimate, limit);
  return { estimate, recompute };
}
