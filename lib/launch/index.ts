/** lib/launch: sharded corpus runs as cluster jobs — job files, submission, progress, relaunch, merge. */
export { launch, launchOptionSpecs, launchDefaults, checkNoLaunchFlags, type LaunchFlags, type LaunchRequest } from './launch.ts';
export { launchStatus, formatStatus, settled, type LaunchStatus, type ShardStatus } from './status.ts';
export { mergeLaunch } from './merge.ts';
export { launchLayout } from './layout.ts';
export { getExecutor, executorNames } from './executors/index.ts';
export { arraySpec } from './shell.ts';
export type { Executor, LaunchPlan, LaunchRecord, LaunchSettings, JobState, QueueView, Submission } from './types.ts';
