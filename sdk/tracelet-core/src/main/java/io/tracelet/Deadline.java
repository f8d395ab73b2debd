package io.tracelet;

import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.concurrent.TimeUnit;

/**
 * An absolute point in time by which work should be done, measured on a monotonic {@link
 * DeadlineClock}. Immutable.
 *
 * <p>Offsets are clamped to about ±100 years, so {@code Deadline.after(Duration.ofSeconds(
 * Long.MAX_VALUE))} is a far-away deadline rather than an overflow, and comparisons stay correct
 * when the clock's nanosecond value wraps around {@code Long.MAX_VALUE}.
 *
 * <pre>{@code
 * Deadline deadline = Deadline.after(Duration.ofSeconds(2));
 * try (CancellableContext ctx = CancellableContext.withDeadline(Context.current(), deadline)) {
 *   ...
 * }
 * }</pre>
 */
public final class Deadline implements Comparable<Deadline> {

  // Same bound as gRPC's Deadline: far enough for "never", small enough that the difference of
  // any two deadlines fits in a long.
  private static final long MAX_OFFSET_NANOS = TimeUnit.DAYS.toNanos(100L * 365);
  private static final long MIN_OFFSET_NANOS = -MAX_OFFSET_NANOS;

  private final DeadlineClock clock;
  private final long deadlineNanos;

  private Deadline(DeadlineClock clock, long deadlineNanos) {
    this.clock = clock;
    this.deadlineNanos = deadlineNanos;
  }

  /**
   * A deadline {@code timeout} from now on the system clock; a negative timeout is already past.
   */
  public static Deadline after(Duration timeout) {
    return after(timeout, DeadlineClock.system());
  }

  /** A deadline {@code timeout} from now on {@code clock}. */
  public static Deadline after(Duration timeout, DeadlineClock clock) {
    Objects.requireNonNull(timeout, "timeout");
    Objects.requireNonNull(clock, "clock");
    return new Deadline(clock, clock.nanoTime() + clampedNanos(timeout));
  }

  /** A deadline at the wall-clock instant {@code when}, on the system clock. */
  public static Deadline at(Instant when) {
    return at(when, DeadlineClock.system());
  }

  /**
   * A deadline at the wall-clock instant {@code when}. The instant is converted once, now, into a
   * monotonic deadline: later wall-clock jumps do not move it.
   */
  public static Deadline at(Instant when, DeadlineClock clock) {
    Objects.requireNonNull(when, "when");
    Objects.requireNonNull(clock, "clock");
    Instant now = clock.wallTime();
    long offset;
    try {
      offset = clamp(Duration.between(now, when));
    } catch (ArithmeticException e) {
      offset = when.isAfter(now) ? MAX_OFFSET_NANOS : MIN_OFFSET_NANOS;
    }
    return new Deadline(clock, clock.nanoTime() + offset);
  }

  private static long clampedNanos(Duration d) {
    return clamp(d);
  }

  private static long clamp(Duration d) {
    // Duration.toNanos() throws beyond ~292 years; compare seconds first.
    long seconds = d.getSeconds();
    if (seconds >= TimeUnit.NANOSECONDS.toSeconds(MAX_OFFSET_NANOS)) {
      return MAX_OFFSET_NANOS;
    }
    if (seconds <= TimeUnit.NANOSECONDS.toSeconds(MIN_OFFSET_NANOS)) {
      return MIN_OFFSET_NANOS;
    }
    return d.toNanos();
  }

  /** The clock this deadline is measured on. */
  public DeadlineClock clock() {
    return clock;
  }

  /** The deadline as a {@link DeadlineClock#nanoTime()} of its clock. */
  long nanos() {
    return deadlineNanos;
  }

  /** Nanoseconds left; zero or negative once the deadline has passed. */
  public long remainingNanos() {
    return deadlineNanos - clock.nanoTime();
  }

  /** Time left; zero or negative once the deadline has passed. */
  public Duration timeRemaining() {
    return Duration.ofNanos(remainingNanos());
  }

  /** Whether the deadline has passed. */
  public boolean isExpired() {
    return remainingNanos() <= 0;
  }

  /** Whether this deadline comes strictly before {@code other}. */
  public boolean isBefore(Deadline other) {
    return compareTo(other) < 0;
  }

  /** The earlier of the two deadlines (this one when they are equal). */
  public Deadline minimum(Deadline other) {
    return other.isBefore(this) ? other : this;
  }

  /**
   * Orders deadlines by when they pass. Deadlines on the same clock compare exactly (wrap-safe);
   * deadlines on different clocks compare by their time remaining.
   */
  @Override
  public int compareTo(Deadline other) {
    if (clock == other.clock) {
      return Long.signum(deadlineNanos - other.deadlineNanos);
    }
    return Long.signum(remainingNanos() - other.remainingNanos());
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Deadline
        && ((Deadline) o).clock == clock
        && ((Deadline) o).deadlineNanos == deadlineNanos;
  }

  @Override
  public int hashCode() {
    return Long.hashCode(deadlineNanos) * 31 + System.identityHashCode(clock);
  }

  @Override
  public String toString() {
    long remaining = remainingNanos();
    return String.format(
        "Deadline[%s%d.%09ds from now]",
        remaining < 0 ? "-" : "",
        Math.abs(remaining / 1_000_000_000L),
        Math.abs(remaining % 1_000_000_000L));
  }
}
