export interface ScheduleParams {
  /** Peak learning rate, reached at the end of warm-up. */
  baseLr: number;
  warmupSteps: number;
  /** Optimizer steps of the whole run (decay reaches its end here). */
  totalSteps: number;
}

/** A learning-rate schedule: the rate used by optimizer step `step` (0-based). */
export interface LrSchedule {
  name: string;
  description: string;
  /** Multiplier of baseLr after warm-up, for `progress` in [0, 1] through the post-warm-up steps. */
  decay(progress: number): number;
}
