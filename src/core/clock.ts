/**
 * Time is injected everywhere tokens, expiries or audit timestamps are computed, so tests can move it and
 * the fault-injection API can skew it without touching the system clock.
 */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** A clock that can be shifted at run time (clock-skew fault injection, tests). */
export class ShiftableClock implements Clock {
  private offsetMs = 0;
  constructor(private readonly base: Clock = systemClock) {}
  now(): number {
    return this.base.now() + this.offsetMs;
  }
  shift(ms: number): void {
    this.offsetMs = ms;
  }
  get offset(): number {
    return this.offsetMs;
  }
}

export const epochSeconds = (clock: Clock): number => Math.floor(clock.now() / 1000);
