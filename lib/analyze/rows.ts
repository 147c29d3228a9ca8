import type { TokenScores } from '../attribution/index.ts';
import { compareRegion, type CompareOptions, type ResolvedRule, type SampleRegions } from '../confounders/index.ts';
import type { AttributionRow } from '../corpus/types.ts';
import { SampleFailed, SkipSample } from './errors.ts';
import type { PreparedSide } from './prepare.ts';


export interface ComparisonSettings extends Omit<CompareOptions, 'rule'> {
  /** Rule for the instruction region. */
  rule: ResolvedRule;
  /** Rule for earlier response segments (response-level mode). */
  responseRule: ResolvedRule;
}

export interface ScoredSide {
  prepared: PreparedSide;
  scores: TokenScores;
}

function checkFinite(role: string, side: ScoredSide): void {
  if (!Number.isFinite(side.scores.loss)) throw new SampleFailed(`${role} loss is ${side.scores.loss}`);
  for (const t of side.prepared.input.scored) {
    const value = side.scores.scores[t];
    if (!Number.isFinite(value)) throw new SampleFailed(`${role} score of token ${t} is ${value}`);
  }
}

/** The rows of one sample, one per analysed region. Throws SampleFailed on non-finite numbers. */
export function buildRows(id: string, layout: SampleRegions, teacher: ScoredSide, student: ScoredSide, settings: ComparisonSettings): AttributionRow[] {
  checkFinite('teacher', teacher);
  checkFinite('student', student);
  return layout.regions.map((region, r) => {
    const pick = (side: ScoredSide) => {
      const { tokens, spans } = side.prepared.regions[r];
      return { spans, scores: Float32Array.from(tokens, (t) => side.scores.scores[t]) };
    };
    for (const [role, side] of [['teacher', teacher], ['student', student]] as const)
      if (side.prepared.regions[r].tokens.length === 0) throw new SkipSample(`region ${region.name} has no ${role} tokens`);
    const rule = region.field === 'user' ? settings.rule : settings.responseRule;
    const c = compareRegion(region.text, pick(teacher), pick(student), { ...settings, rule });
    if (c.delta.some((d) => !Number.isFinite(d))) throw new SampleFailed(`non-finite Δ in region ${region.name}`);
    return {
      id,
      region: region.name,
      text: region.text,
      tokens: c.spans.map((s) => region.text.slice(s.start, s.end)),
      char_start: c.spans.map((s) => s.start),
      char_end: c.spans.map((s) => s.end),
      teacher_score: Array.from(c.teacherScore),
      student_score: Array.from(c.studentScore),
      teacher_norm: Array.from(c.teacherNorm),
      student_norm: Array.from(c.studentNorm),
      delta: Array.from(c.delta),
      flagged: c.flagged,
      spans: c.flaggedSpans,
      teacher_loss: teacher.scores.loss,
      student_loss: student.scores.loss,
      threshold: c.threshold,
    };
  });
}
