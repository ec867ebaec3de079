// Progress on stderr: a bar redrawn in place on a terminal, one line per update otherwise (CI logs).
export interface ProgressFields {
  loss?: number;
  acc?: number;
  imgPerS?: number;
  lr?: number;
  extra?: string;
}

function clock(seconds: number): string {
  if (!Number.isFinite(seconds)) return '--:--';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const pad = (v: number): string => String(v).padStart(2, '0');
  return h > 0 ? `${h}:${pad(m)}:${pad(s % 60)}` : `${m}:${pad(s % 60)}`;
}

export class Progress {
  private readonly tty = Boolean(process.stderr.isTTY);
  private readonly started = performance.now();
  private startStep = 0;

  constructor(private readonly total: number, private readonly label: string, private readonly quiet = false) {}

  /** Where this run started (after a resume), for the ETA. */
  resumeAt(step: number): void {
    this.startStep = step;
  }

  update(step: number, f: ProgressFields): void {
    if (this.quiet) return;
    const elapsed = (performance.now() - this.started) / 1000;
    const rate = (step - this.startStep) / Math.max(elapsed, 1e-9);
    const eta = (this.total - step) / rate;
    const width = 24;
    const filled = Math.round((width * step) / this.total);
    const parts = [
      `${this.label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${step}/${this.total}`,
      f.loss !== undefined ? `loss ${f.loss.toFixed(4)}` : '',
      f.acc !== undefined ? `acc ${f.acc.toFixed(3)}` : '',
      f.imgPerS !== undefined ? `${f.imgPerS.toFixed(1)} img/s` : '',
      f.lr !== undefined ? `lr ${f.lr.toExponential(2)}` : '',
      f.extra ?? '',
      `ETA ${clock(eta)}`,
    ].filter(Boolean);
    const line = parts.join('  ');
    process.stderr.write(this.tty ? `\r${line}\x1b[K` : `${line}\n`);
  }

  done(message: string): void {
    if (this.quiet) return;
    process.stderr.write(`${this.tty ? '\r\x1b[K' : ''}${message}\n`);
  }
}
