package io.tracelet.testsupport;

import io.tracelet.DeadlineClock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * A clock whose time moves only when a test advances it; due timers run on the test's thread. For
 * the outbound tests (the core's own fake clock is package-private in {@code io.tracelet}).
 */
public final class ManualDeadlineClock implements DeadlineClock {

  private long nanos;
  private Instant wall = Instant.parse("2026-01-01T00:00:00Z");
  private final List<ManualTimer> timers = new ArrayList<>();

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
