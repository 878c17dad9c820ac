/** A limit algorithm test double: the limit changes only when the test sets it; every sample is recorded. */
export class RecordingLimit {
  samples: { rttMs: number; inFlight: number; dropped: boolean }[] = [];
  constructor(public limit: number) {}
  update(sample: { rttMs: number; inFlight: number; dropped: boolean }): number {
    this.samples.push(sample);
    return this.limit;
  }
}
