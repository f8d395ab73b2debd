package io.tracelet;

import java.time.Instant;

/**
 * The time source and timer behind {@link Deadline}s: monotonic nanoseconds, the wall clock (only
 * to convert an {@link Instant}), and one-shot timers.
 *
 * <p>Production code uses {@link #system()}. Tests pass their own implementation, whose time moves
 * only when the test advances it, so a deadline test never sleeps.
 */
public interface DeadlineClock {

  /** Monotonic nanoseconds, as {@link System#nanoTime()}: only differences are meaningful. */
  long nanoTime();

  /** The current wall-clock time; used only to turn an {@link Instant} into a deadline. */
  Instant wallTime();

  /**
   * Runs {@code task} once, {@code delayNanos} from now, on a timer thread. The task must be quick:
   * it shares the thread with every other timer.
   */
  Timer schedule(Runnable task, long delayNanos);

  /**
   * Runs {@code task} once, when {@link #nanoTime()} reaches {@code dueNanos} (soon, if it already
   * has), on a timer thread. For a caller that knows its due time already: the system clock then
   * reads no time of its own.
   */
  default Timer scheduleAt(Runnable task, long dueNanos) {
    return schedule(task, dueNanos - nanoTime());
  }

  /** A scheduled task that can be called off. */
  interface Timer {
    /** Calls the task off if it has not run yet and releases what it holds; idempotent. */
    void cancel();
  }

  /**
   * The system clock: {@link System#nanoTime()}, and one shared daemon timer thread for all
   * deadlines in the process (no thread per context). Cancelled timers are removed at once.
   */
  static DeadlineClock system() {
    return SystemDeadlineClock.INSTANCE;
  }
}
