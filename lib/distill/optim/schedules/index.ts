import './constant.ts';
import './linear.ts';
import './cosine.ts';

export { getSchedule, listSchedules, learningRate, registerSchedule } from './registry.ts';
export type { LrSchedule, ScheduleParams } from './types.ts';
