// Learning-rate schedules: a pure function of the step, so a resumed run gets the same rates.
export type Schedule =
  | { kind: 'constant' }
  | { kind: 'cosine'; totalSteps: number; minLr?: number }
  | { kind: 'step'; every: number; gamma: number }
  | { kind: 'multistep'; milestones: readonly number[]; gamma: number };

export interface ScheduleOptions {
  baseLr: number;
  /** Linear warm-up from 0 over this many steps (default 0). */
  warmupSteps?: number;
  schedule: Schedule;
}

/** The learning rate for 0-based `step`. */
export function learningRate(step: number, { baseLr, warmupSteps = 0, schedule }: ScheduleOptions): number {
  if (warmupSteps > 0 && step < warmupSteps) return (baseLr * (step + 1)) / warmupSteps;
  const s = step - warmupSteps;
  switch (schedule.kind) {
    case 'constant':
      return baseLr;
    case 'cosine': {
      const span = Math.max(1, schedule.totalSteps - warmupSteps);
      const min = schedule.minLr ?? 0;
      return min + 0.5 * (baseLr - min) * (1 + Math.cos((Math.PI * Math.min(s, span)) / span));
    }
    case 'step':
      return baseLr * schedule.gamma ** Math.floor(s / schedule.every);
    case 'multistep':
      return baseLr * schedule.gamma ** schedule.milestones.filter((m) => step >= m).length;
  }
}
