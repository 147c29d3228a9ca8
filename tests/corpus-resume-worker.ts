/**
 * A slow resumable run for tests/corpus-resumable.test.ts, which kills it with SIGKILL mid-run.
 * Usage: node --import tsx tests/corpus-resume-worker.ts DIR TOTAL BATCH DELAY_MS
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { openRun, type PrunedRow, type SampleResult } from '../lib/corpus/index.ts';
import { batchesOf, FINGERPRINT, resultFor } from './corpus-resume-rows.ts';

const [dir, total, batch, delayMs] = process.argv.slice(2);
const run = await openRun(dir, { artifact: 'pruned', total: Number(total), configFingerprint: FINGERPRINT, resume: true });
for (const indices of batchesOf(run.todo(), Number(batch))) {
  await sleep(Number(delayMs));
  await run.commit(indices.map(resultFor) as SampleResult<PrunedRow>[]);
}
