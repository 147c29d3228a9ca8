import { getFamily } from '../synth/index.ts';

/** The task the shipped models were trained on and the demo runs on: lib/synth's `shipped` family. */
export const DEMO_SYNTH_OPTIONS = getFamily('shipped').options;
