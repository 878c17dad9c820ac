import {
  type Clock,
  EventEmitter,
  ManualClock,
  type TimerHandle,
  type TimerOptions,
  checkNumber,
  invalidOption,
  systemClock,
} from '@ballast/core';
import { exactly } from './expect.js';

export function core(): void {
  const clock: Clock = new ManualClock(0);
  exactly<number>()(clock.now());
  exactly<TimerHandle>()(clock.setTimeout(() => undefined, 10));
  exactly<TimerHandle>()(systemClock.setTimeout(() => undefined, 10, { ref: false }));
  const background: TimerOptions = { ref: false };
  exactly<boolean | undefined>()(background.ref);

  // A Clock written before timer options existed still implements the interface.
  const legacy: Clock = {
    now: () => 0,
    setTimeout: (callback: () => void, ms: number): TimerHandle => setTimeout(callback, ms),
    clearTimeout: (handle: TimerHandle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
  };
  exactly<number>()(legacy.now());

  const manual = new ManualClock(1_000);
  exactly<number>()(manual.pendingTimers);
  exactly<number>()(manual.pendingRefTimers);
  exactly<Promise<void>>()(manual.advanceAsync(10));

  const emitter = new EventEmitter<{ readonly type: 'tick'; readonly n: number }>();
  emitter.event((e) => exactly<{ readonly type: 'tick'; readonly n: number }>()(e));
  exactly<number>()(checkNumber('limit', 5, 10, { min: 0 }));
  exactly<TypeError>()(invalidOption('limit', 'a number', 'x'));
}
