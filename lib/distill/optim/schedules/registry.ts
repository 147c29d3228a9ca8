import type { LrSchedule, ScheduleParams } from './types.ts';

const schedules = new Map<string, LrSchedule>();

export function registerSchedule(schedule: LrSchedule): void {
  if (schedules.has(schedule.name)) throw new Error(`learning-rate schedule "${schedule.name}" is registered twice`);
  schedules.set(schedule.name, schedule);
}

export function getSchedule(name: string): LrSchedule {
  const schedule = schedules.get(name);
  if (!schedule) throw new Error(`unknown learning-rate schedule "${name}" (known: ${listSchedules().join(', ')})`);
  return schedule;
}

export function listSchedules(): string[] {
  return [...schedules.keys()];
}

/**
 * Learning rate of optimizer step `step` (0-based). Warm-up rises linearly to baseLr over
 * warmupSteps, reaching it on the last warm-up step (step 0 already trains, unlike a schedule
 * that starts at 0); afterwards the schedule's decay runs from progress 0 towards 1, which it
 * would reach one step after the last (so no step is taken at rate 0), as in HF's schedulers.
 */
export function learningRate(schedule: LrSchedule, params: ScheduleParams, step: number): number {
  const { baseLr, warmupSteps, totalSteps } = params;
  if (step < warmupSteps) return (baseLr * (step + 1)) / warmupSteps;
  const decaySteps = totalSteps - warmupSteps;
  const progress = decaySteps <= 0 ? 0 : Math.min(1, (step - warmupSteps) / decaySteps);
  return baseLr * schedule.decay(progress);
}
