export { buildReport } from './build.ts';
export { renderSamplePng, launchChromium, openReport, CHROMIUM_ARGS, type PngOptions, type PngScore } from './browser.ts';
export { loadReportInput, type ReportSources } from './load.ts';
export { readRun } from './runs.ts';
export type { ReportInput, ReportPrunedRow, AnalyzeManifestLike, DistillRun, EvalResult, TrainPoint, ValidationPoint } from './types.ts';
