/**
 * The edges the thread pulsed, for benches and tests: Float64 [0] count, then per edge its
 * programmed guest time and the guest time right after its pulse. Full is full.
 */
export class EdgeLog {
  readonly f64: Float64Array;

  constructor(readonly buffer: SharedArrayBuffer) {
    this.f64 = new Float64Array(buffer);
  }

  static create(edges: number): EdgeLog {
    return new EdgeLog(new SharedArrayBuffer(8 * (1 + 2 * edges)));
  }

  get count(): number {
    return this.f64[0];
  }

  add(due: number, raised: number): void {
    const n = this.f64[0];
    if (2 * n + 2 >= this.f64.length) return;
    this.f64[1 + 2 * n] = due;
    this.f64[2 + 2 * n] = raised;
    this.f64[0] = n + 1;
  }

  /** [programmed, raised] guest ns of edge i. */
  edge(i: number): [number, number] {
    return [this.f64[1 + 2 * i], this.f64[2 + 2 * i]];
  }

  /** Raised minus programmed time of every logged edge, in us. */
  latenessMicros(): number[] {
    return Array.from({ length: this.count }, (_, i) => (this.f64[2 + 2 * i] - this.f64[1 + 2 * i]) / 1000);
  }
}
