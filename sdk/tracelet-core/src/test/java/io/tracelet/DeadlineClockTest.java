package io.tracelet;

import static org.assertj.core.api.Assertions.assertThat;

import io.opentelemetry.context.Context;
import io.tracelet.testsupport.ManualDeadlineClock;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * {@link DeadlineClock#scheduleAt}: a due time instead of a delay, and {@link
 * CancellableContext#withTimeout}, which uses it without reading the clock a second time.
 */
@ExtendWith(ContextLeakCheck.class)
class DeadlineClockTest {

  @Test
  void scheduleAt_onAClockOfItsOwn_runsTheTaskWhenItsTimeComes() {
    ManualDeadlineClock clock = new ManualDeadlineClock();
    AtomicInteger runs = new AtomicInteger();
    clock.scheduleAt(runs::incrementAndGet, clock.nanoTime() + Duration.ofMillis(10).toNanos());
    clock.advance(Duration.ofMillis(9));
    assertThat(runs).hasValue(0);
    clock.advance(Duration.ofMillis(1));
    assertThat(runs).hasValue(1);
  }

  @Test
  void scheduleAt_onTheSystemClock_runsTheTaskOnTheTimerThread() throws InterruptedException {
    CountDownLatch ran = new CountDownLatch(1);
    long due = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(20);
    long[] ranAt = new long[1];
    DeadlineClock.system()
        .scheduleAt(
            () -> {
              ranAt[0] = System.nanoTime();
              ran.countDown();
            },
            due);
    assertThat(ran.await(10, TimeUnit.SECONDS)).isTrue();
    assertThat(ranAt[0] - due).isNotNegative();
  }

  @Test
  void scheduleAt_aTimeAlreadyPassed_runsSoon() throws InterruptedException {
    CountDownLatch ran = new CountDownLatch(1);
    DeadlineClock.system().scheduleAt(ran::countDown, System.nanoTime() - 1_000_000);
    assertThat(ran.await(10, TimeUnit.SECONDS)).isTrue();
  }

  @Test
  void withTimeout_onTheSystemClock_setsOneTimerAndReleasesItOnClose() {
    int before = SystemDeadlineClock.pendingTimers();
    try (CancellableContext ctx =
        CancellableContext.withTimeout(Context.root(), Duration.ofHours(1))) {
      assertThat(ctx.cancellation().isCancelled()).isFalse();
      assertThat(ctx.cancellation().remainingNanos())
          .isBetween(Duration.ofMinutes(59).toNanos(), Duration.ofHours(1).toNanos());
      assertThat(SystemDeadlineClock.pendingTimers()).isEqualTo(before + 1);
    }
    assertThat(SystemDeadlineClock.pendingTimers()).isEqualTo(before);
  }

  @Test
  void withTimeout_zeroOrNegative_cancelsOnTheCallersThread() {
    int before = SystemDeadlineClock.pendingTimers();
    try (CancellableContext zero = CancellableContext.withTimeout(Context.root(), Duration.ZERO);
        CancellableContext negative =
            CancellableContext.withTimeout(Context.root(), Duration.ofMillis(-5))) {
      assertThat(zero.cancellation().cause()).isInstanceOf(DeadlineExceededException.class);
      assertThat(negative.cancellation().cause()).isInstanceOf(DeadlineExceededException.class);
      assertThat(SystemDeadlineClock.pendingTimers()).isEqualTo(before);
    }
  }

  @Test
  void withTimeout_short_firesOnTheTimerThread() throws InterruptedException {
    try (CancellableContext ctx =
        CancellableContext.withTimeout(Context.root(), Duration.ofMillis(5))) {
      assertThat(ctx.cancellation().await(Duration.ofSeconds(10))).isTrue();
      assertThat(ctx.cancellation().cause()).isInstanceOf(DeadlineExceededException.class);
    }
  }
}
