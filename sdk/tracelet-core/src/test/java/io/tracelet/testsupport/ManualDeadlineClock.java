package io.tracelet.testsupport;

import io.tracelet.DeadlineClock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * A clock whose time moves only when a test advances it; due timers run on the test's thread, so
 * deadline tests never sleep.
 */
public final class ManualDeadlineClock implements DeadlineClock {

  private long nanos;
  private Instant wall = Instant.parse("2026-01-01T00:00:00Z");
  private final List<ManualTimer> timers = new ArrayList<>();

  /** A clock at nanosecond 0. */
  public ManualDeadlineClock() {
    this(0);
  }

  /**
   * A clock starting at {@code startNanos}, e.g. near {@code Long.MAX_VALUE} to test wrap-around.
   */
  public ManualDeadlineClock(long startNanos) {
    this.nanos = startNanos;
  }

  @Override
  public synchronized long nanoTime() {
    return nanos;
  }

  @Override
  public synchronized Instant wallTime() {
    return wall;
  }

  @Override
  public synchronized Timer schedule(Runnable task, long delayNanos) {
    ManualTimer t = new ManualTimer(task, nanos + delayNanos);
    timers.add(t);
    return t;
  }

  /** Moves time forward and runs the timers that became due, in order. */
  public void advance(Duration d) {
    List<ManualTimer> due = new ArrayList<>();
    synchronized (this) {
      nanos += d.toNanos();
      wall = wall.plus(d);
      for (ManualTimer t : new ArrayList<>(timers)) {
        if (t.due - nanos <= 0) {
          timers.remove(t);
          due.add(t);
        }
      }
    }
    due.sort((a, b) -> Long.signum(a.due - b.due));
    for (ManualTimer t : due) {
      t.task.run();
    }
  }

  /** Moves time forward without running any timer: a deadline that passed unnoticed so far. */
  public synchronized void advanceWithoutFiring(Duration d) {
    nanos += d.toNanos();
    wall = wall.plus(d);
  }

  /** Timers scheduled and neither run nor cancelled. */
  public synchronized int pendingTimers() {
    return timers.size();
  }

  private final class ManualTimer implements Timer {
    final Runnable task;
    final long due;

    ManualTimer(Runnable task, long due) {
      this.task = task;
      this.due = due;
    }

    @Override
    public void cancel() {
      synchronized (ManualDeadlineClock.this) {
        timers.remove(this);
      }
    }
  }
}
