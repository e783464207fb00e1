/** An input of the axis step that cannot be used (corrupt tarball, no course, no matching run, …). */
export class AxisInputError extends Error {}

/** Collects the processing log (the original appends it to the table description). */
export class AxisLog {
  readonly warnings: string[] = [];
  /** Warnings beyond this many are counted, not kept. */
  readonly max: number;
  dropped = 0;

  constructor(max = 500) {
    this.max = max;
  }

  warn(msg: string): void {
    if (this.warnings.length < this.max) this.warnings.push(msg);
    else this.dropped++;
  }
}
