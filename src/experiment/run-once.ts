// The runs of an experiment survive a crash: a run that already finished with the same config is
// reused, one that was interrupted resumes from its last checkpoint, so rerunning the same command
// after a kill loses at most the steps since that checkpoint.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CHECKPOINT_FILE } from '../io/checkpoint.ts';
import type { TrainConfig } from '../train/config.ts';
import { configFileText, train, type TrainSummary } from '../train/trainer.ts';

export async function trainOnce(config: TrainConfig, outDir: string, init: string | undefined, say: (m: string) => void): Promise<TrainSummary> {
  const configFile = join(outDir, 'config.json');
  const sameConfig = existsSync(configFile) && readFileSync(configFile, 'utf8') === configFileText(config);
  const summaryFile = join(outDir, 'summary.json');
  if (sameConfig && existsSync(summaryFile)) {
    const summary = JSON.parse(readFileSync(summaryFile, 'utf8')) as TrainSummary;
    if (summary.steps === config.steps && summary.verification) {
      say(`reusing the finished run in ${outDir} (same config)`);
      return summary;
    }
  }
  if (sameConfig && existsSync(join(outDir, CHECKPOINT_FILE))) {
    say(`resuming the interrupted run in ${outDir} from its last checkpoint`);
    return train(config, { outDir, resume: true });
  }
  if (existsSync(configFile)) say(`${outDir} holds a run with another config: training it again`);
  return train(config, { outDir, init });
}
