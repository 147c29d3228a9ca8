import type { AttributionMethod, MethodOptions } from '../attribution/index.ts';
import { sampleRegions, UnsplittableResponse, type AnalysisLevel, type SampleRegions } from '../confounders/index.ts';
import { userMessage } from '../corpus/prompt.ts';
import type { AttributionRow, Sample } from '../corpus/types.ts';
import { SkipSample } from './errors.ts';
import { prepareSide, type LengthPolicy, type ModelSide, type PreparedSide } from './prepare.ts';
import { buildRows, type ComparisonSettings } from './rows.ts';

export interface ScoringSettings extends ComparisonSettings {
  method: AttributionMethod;
  methodOptions: Omit<MethodOptions, 'padId'>;
  level: AnalysisLevel;
  segments: number;
  length: LengthPolicy;
  /** A sample the chat template cannot render (or renders with changed text): fail the run, or skip it with the reason. */
  onError?: 'fail' | 'skip';
}

/** What became of one sample: its rows, or why it has none. */
export type Outcome = { sample: Sample; rows: AttributionRow[] } | { sample: Sample; skipped: string };

/** A sample rendered and tokenised for both models, ready to score. */
export interface ReadySample {
  sample: Sample;
  layout: SampleRegions;
  teacher: PreparedSide;
  student: PreparedSide;
}

export function prepareSample(sample: Sample, teacher: ModelSide, student: ModelSide, s: ScoringSettings): ReadySample | { sample: Sample; skipped: string } {
  try {
    const layout = sampleRegions(userMessage(sample), sample.output, s.level, s.segments);
    const units = s.method.occlusionUnits ?? [];
    return { sample, layout, teacher: prepareSide(teacher, layout, s.length, units), student: prepareSide(student, layout, s.length, units) };
  } catch (error) {
    if (error instanceof SkipSample || error instanceof UnsplittableResponse) return { sample, skipped: error.message };
    if (s.onError === 'skip') return { sample, skipped: `cannot render: ${(error as Error).message}` };
    throw new Error(`sample ${sample.id} (record ${sample.index}): ${(error as Error).message}`, { cause: error });
  }
}

export const tokenCount = (r: ReadySample) => r.teacher.input.ids.length + r.student.input.ids.length;

/**
 * Length buckets: samples sorted by their longer encoding (ties by corpus position), cut into
 * batches of batchSize. Depends only on the samples given, so a resumed run rebuilds the same batches.
 */
export function planBatches(ready: ReadySample[], batchSize: number): ReadySample[][] {
  const longer = (r: ReadySample) => Math.max(r.teacher.input.ids.length, r.student.input.ids.length);
  const sorted = [...ready].sort((a, b) => longer(a) - longer(b) || a.sample.index - b.sample.index);
  const out: ReadySample[][] = [];
  for (let i = 0; i < sorted.length; i += batchSize) out.push(sorted.slice(i, i + batchSize));
  return out;
}

/** Attribute one batch with both models and compare: one outcome per sample, in batch order. */
export function scoreBatch(batch: ReadySample[], teacher: ModelSide, student: ModelSide, s: ScoringSettings): Outcome[] {
  const { teacher: teacherScores, student: studentScores } = s.method.scorePair
    ? s.method.scorePair(teacher.model, student.model, batch.map((r) => ({ teacher: r.teacher.input, student: r.student.input })), { ...s.methodOptions, teacherPadId: teacher.padId, studentPadId: student.padId })
    : {
        teacher: s.method.score(teacher.model, batch.map((r) => r.teacher.input), { ...s.methodOptions, padId: teacher.padId }),
        student: s.method.score(student.model, batch.map((r) => r.student.input), { ...s.methodOptions, padId: student.padId }),
      };
  return batch.map((r, b) => {
    try {
      const rows = buildRows(r.sample.id, r.layout, { prepared: r.teacher, scores: teacherScores[b] }, { prepared: r.student, scores: studentScores[b] }, s);
      return { sample: r.sample, rows };
    } catch (error) {
      if (!(error instanceof SkipSample)) throw error;
      return { sample: r.sample, skipped: error.message };
    }
  });
}

/** Prepare, bucket and score samples in memory; outcomes in the order of `samples`. */
export function scoreSamples(samples: Sample[], teacher: ModelSide, student: ModelSide, s: ScoringSettings, batchSize: number): Outcome[] {
  const outcomes = new Map<Sample, Outcome>();
  const ready: ReadySample[] = [];
  for (const sample of samples) {
    const prepared = prepareSample(sample, teacher, student, s);
    if ('layout' in prepared) ready.push(prepared);
    else outcomes.set(sample, prepared);
  }
  for (const batch of planBatches(ready, batchSize)) for (const outcome of scoreBatch(batch, teacher, student, s)) outcomes.set(outcome.sample, outcome);
  return samples.map((sample) => outcomes.get(sample)!);
}
