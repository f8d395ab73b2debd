package io.tracelet;

/**
 * Test-only window on the SDK's package-private counters, for the servlet module's leak tests (same
 * package name on the test class path; nothing of this ships).
 */
public final class SdkProbes {
  private SdkProbes() {}

  /** Deadline timers still queued on the process-wide system clock. */
  public static int pendingDeadlineTimers() {
    return SystemDeadlineClock.pendingTimers();
  }

  /** Listeners and children registered on {@code cancellation} and not yet removed. */
  public static int registeredListeners(Cancellation cancellation) {
    return cancellation.registeredCount();
  }
}
