package io.tracelet.it;

import io.tracelet.ContextDoneException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;

/** What the controllers tell the test, and what the test lets them do; reset by each test. */
public final class Signals {
  public static volatile CountDownLatch entered = new CountDownLatch(1);
  public static volatile CountDownLatch cancelled = new CountDownLatch(1);
  public static volatile CountDownLatch release = new CountDownLatch(1);
  public static final AtomicReference<ContextDoneException> cause = new AtomicReference<>();
  public static final AtomicReference<Thread> thread = new AtomicReference<>();

  private Signals() {}

  public static void reset() {
    release.countDown();
    entered = new CountDownLatch(1);
    cancelled = new CountDownLatch(1);
    release = new CountDownLatch(1);
    cause.set(null);
    thread.set(null);
  }
}
