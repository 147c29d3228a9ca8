export * from './types.ts';
export { minMaxNormalize } from './normalize.ts';
export { projectOntoTokens, sameTokenization } from './project.ts';
export { isWhitespaceToken, flagTokens, flaggedSpans, spanPieces, SPAN_CUTS, type SpanCut } from './spans.ts';
export { compareRegion, type CompareOptions } from './compare.ts';
export { sampleRegions, UnsplittableResponse, splitPoints, words, phrases, withoutWord, type AnalysisLevel, type RegionDef, type SampleRegions } from './regions.ts';
export * from './rules/index.ts';
