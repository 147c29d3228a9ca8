import { join } from 'node:path';
import { writeFileAtomic } from '../util/atomic.ts';
import { generateSynthCorpus, splitStats, type SplitStats } from './generate.ts';
import { resolveSynthOptions, type SynthOptions, type SynthOptionsInput } from './options.ts';
import { SPLIT_POLICIES } from './splits.ts';
import { SPLIT_NAMES, type SplitName } from './types.ts';

export interface SynthManifest {
  generator: 'leaf-synth';
  version: 1;
  options: SynthOptions;
  splits: Record<SplitName, SplitStats & { file: string; description: string }>;
}

/**
 * Writes `dir/<split>.jsonl` for every split (one sample per line, fields of SynthSample) and
 * `dir/manifest.json` with the resolved options and each split's measured correlation.
 */
export function writeSynthCorpus(dir: string, input: SynthOptionsInput = {}): SynthManifest {
  const options = resolveSynthOptions(input);
  const corpus = generateSynthCorpus(options);
  const splits = {} as SynthManifest['splits'];
  for (const split of SPLIT_NAMES) {
    const file = `${split}.jsonl`;
    writeFileAtomic(join(dir, file), corpus[split].map((sample) => JSON.stringify(sample) + '\n').join(''));
    splits[split] = { file, description: SPLIT_POLICIES[split].description, ...splitStats(corpus[split]) };
  }
  const manifest: SynthManifest = { generator: 'leaf-synth', version: 1, options, splits };
  writeFileAtomic(join(dir, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
  return manifest;
}
