import { join } from 'node:path';
import { writeFileAtomic } from '../util/atomic.ts';

/** Writes tokenizer.json and tokenizer_config.json into `dir` (created if needed), each atomically. */
export function writeTokenizerFiles(dir: string, files: { tokenizerJson: object; tokenizerConfig: object }): void {
  writeFileAtomic(join(dir, 'tokenizer.json'), JSON.stringify(files.tokenizerJson));
  writeFileAtomic(join(dir, 'tokenizer_config.json'), JSON.stringify(files.tokenizerConfig, null, 2));
}
