/** A sample that cannot be analysed for a reason that is not a fault of leaf: recorded with the reason, the run goes on. */
export class SkipSample extends Error {}

/** A sample whose numbers cannot be trusted (NaN/Inf scores or loss): recorded as failed, never written as data. */
export class SampleFailed extends SkipSample {
  constructor(message: string) {
    super(`numeric failure: ${message}`);
  }
}
