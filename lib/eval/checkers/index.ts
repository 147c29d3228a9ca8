/**
 * Answer checkers registry. Adding a checker = one file that calls registerChecker, plus its import
 * line here.
 */
import './exact.ts';
import './numeric.ts';
import './contains.ts';
import { lookupChecker, registeredCheckers, type AnswerChecker } from './registry.ts';

export type { AnswerChecker } from './registry.ts';
export { extractNumber, lastBoxed } from './numeric.ts';

export function getChecker(name: string): AnswerChecker {
  return lookupChecker(name);
}

export function listCheckers(): string[] {
  return registeredCheckers().map((checker) => checker.name);
}
