/**
 * The shifted mask: the logit at position i − 1 predicts token i, so a supervised token at index i
 * is scored at position i − 1 (the authors' scripts masked i itself, skipping the first response
 * token's prediction and scoring one position past the end).
 */
export function predictingPositions(targetIndices: readonly number[], label: string): number[] {
  return targetIndices.map((index) => {
    if (index < 1) throw new Error(`${label}: supervised token at index ${index} has no preceding position to predict it`);
    return index - 1;
  });
}
