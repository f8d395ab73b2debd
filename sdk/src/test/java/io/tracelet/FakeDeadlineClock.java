package io.tracelet;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/** A clock whose time moves only when a test advances it; due timers run on the test's thread. */
final class FakeDeadlineClock implements DeadlineClock {

  private long nanos;
  private Instant wall = Instant.parse("2026-01-01T00:00:00Z");
  private final List<FakeTimer> timers = new ArrayList<>();

  FakeDeadlineClock() {
    this(0);
  }

  FakeDeadlineClock(long startNanos) {
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
    FakeTimer t = new FakeTimer(task, nanos + delayNanos);
    timers.add(t);
    return t;
  }

  /** Moves time forward and runs the timers that became due, in order. */
  void advance(Duration d) {
    List<FakeTimer> due = new ArrayList<>();
    synchronized (this) {
      nanos += d.toNanos();
      wall = wall.plus(d);
      for (FakeTimer t : new ArrayList<>(timers)) {
        if (t.due - nanos <= 0) {
          timers.remove(t);
          due.add(t);
        }
      }
    }
    due.sort((a, b) -> Long.signum(a.due - b.due));
    for (FakeTimer t : due) {
      t.task.run();
    }
  }

  synchronized int pendingTimers() {
    return timers.size();
  }

  private final class FakeTimer implements Timer {
    final Runnable task;
    final long due;

    FakeTimer(Runnable task, long due) {
      this.task = task;
      this.due = due;
    }

    @Override
    public void cancel() {
      synchronized (FakeDeadlineClock.this) {
        timers.remove(this);
      }
    }
  }
}
