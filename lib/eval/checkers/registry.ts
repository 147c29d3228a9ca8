/** Decides whether a model's generated text answers a sample correctly. */
export interface AnswerChecker {
  readonly name: string;
  /** One line for `--help` texts and manifests. */
  readonly description: string;
  /**
   * True when `prediction` (generated text) matches `answer` (the gold answer field).
   * Throws when the gold answer itself cannot be used by this checker, so a corpus that can never
   * match is reported instead of silently scoring 0 %.
   */
  check(prediction: string, answer: string): boolean;
}

const checkers = new Map<string, AnswerChecker>();

/** Called once by each checker's module; a second checker under the same name is a bug. */
export function registerChecker(checker: AnswerChecker): void {
  if (checkers.has(checker.name)) throw new Error(`answer checker "${checker.name}" is registered twice`);
  checkers.set(checker.name, checker);
}

export function lookupChecker(name: string): AnswerChecker {
  const checker = checkers.get(name);
  if (!checker) {
    throw new Error(`unknown answer checker "${name}"; available: ${[...checkers.keys()].join(', ')}`);
  }
  return checker;
}

export function registeredCheckers(): AnswerChecker[] {
  return [...checkers.values()];
}
