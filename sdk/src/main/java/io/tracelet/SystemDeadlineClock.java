package io.tracelet;

import java.time.Instant;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/** {@link DeadlineClock#system()}: one lazily started daemon thread shared by all deadlines. */
enum SystemDeadlineClock implements DeadlineClock {
  INSTANCE;

  /** Holder idiom: the thread pool exists only once a deadline is scheduled. */
  private static final class Scheduler {
    static final ScheduledThreadPoolExecutor EXECUTOR = create();

    private static ScheduledThreadPoolExecutor create() {
      ScheduledThreadPoolExecutor executor =
          new ScheduledThreadPoolExecutor(
              1,
              r -> {
                Thread t = new Thread(r, "tracelet-deadline-timer");
                t.setDaemon(true);
                return t;
              });
      // A request that finishes before its deadline cancels its timer; without this policy the
      // cancelled task would stay in the queue until its (possibly distant) deadline.
      executor.setRemoveOnCancelPolicy(true);
      executor.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
      return executor;
    }
  }

  @Override
  public long nanoTime() {
    return System.nanoTime();
  }

  @Override
  public Instant wallTime() {
    return Instant.now();
  }

  @Override
  public Timer schedule(Runnable task, long delayNanos) {
    ScheduledFuture<?> future =
        Scheduler.EXECUTOR.schedule(task, Math.max(0, delayNanos), TimeUnit.NANOSECONDS);
    return () -> future.cancel(false);
  }

  /** Timers still queued; for tests that check that finished requests leave none behind. */
  static int pendingTimers() {
    return Scheduler.EXECUTOR.getQueue().size();
  }
}
