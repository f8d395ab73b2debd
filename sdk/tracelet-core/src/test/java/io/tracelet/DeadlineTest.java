package io.tracelet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tracelet.testsupport.ManualDeadlineClock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class DeadlineTest {

  @Test
  void after_measuresRemainingTimeOnItsClock() {
    ManualDeadlineClock clock = new ManualDeadlineClock();
    Deadline d = Deadline.after(Duration.ofSeconds(2), clock);
    assertThat(d.timeRemaining()).isEqualTo(Duration.ofSeconds(2));
    assertThat(d.isExpired()).isFalse();
    clock.advance(Duration.ofMillis(1500));
    assertThat(d.remainingNanos()).isEqualTo(TimeUnit.MILLISECONDS.toNanos(500));
    clock.advance(Duration.ofMillis(500));
    assertThat(d.isExpired()).isTrue();
    clock.advance(Duration.ofMillis(1));
    assertThat(d.timeRemaining()).isNegative();
  }

  @Test
  void negativeTimeout_isAlreadyExpired() {
    ManualDeadlineClock clock = new ManualDeadlineClock();
    assertThat(Deadline.after(Duration.ofMillis(-5), clock).isExpired()).isTrue();
    assertThat(Deadline.after(Duration.ZERO, clock).isExpired()).isTrue();
  }

  @ParameterizedTest
  @ValueSource(
      longs = {Long.MIN_VALUE, Long.MIN_VALUE + 1, -1, 0, Long.MAX_VALUE - 1, Long.MAX_VALUE})
  void clockNearTheEndsOfLong_comparesWithoutOverflow(long start) {
    ManualDeadlineClock clock = new ManualDeadlineClock(start);
    Deadline soon = Deadline.after(Duration.ofSeconds(1), clock);
    Deadline later = Deadline.after(Duration.ofSeconds(2), clock);
    Deadline past = Deadline.after(Duration.ofSeconds(-1), clock);
    assertThat(soon.isBefore(later)).isTrue();
    assertThat(later.isBefore(soon)).isFalse();
    assertThat(past.isBefore(soon)).isTrue();
    assertThat(soon.minimum(later)).isSameAs(soon);
    assertThat(soon.timeRemaining()).isEqualTo(Duration.ofSeconds(1));
    assertThat(past.isExpired()).isTrue();
    clock.advance(Duration.ofSeconds(1));
    assertThat(soon.isExpired()).isTrue();
    assertThat(later.isExpired()).isFalse();
  }

  @ParameterizedTest
  @ValueSource(longs = {Long.MIN_VALUE, 0, Long.MAX_VALUE})
  void hugeDurations_areClampedNotOverflowed(long start) {
    ManualDeadlineClock clock = new ManualDeadlineClock(start);
    Deadline far = Deadline.after(Duration.ofSeconds(Long.MAX_VALUE), clock);
    Deadline farPast = Deadline.after(Duration.ofSeconds(Long.MIN_VALUE), clock);
    Deadline year = Deadline.after(Duration.ofDays(365), clock);
    assertThat(far.isExpired()).isFalse();
    assertThat(year.isBefore(far)).isTrue();
    assertThat(farPast.isExpired()).isTrue();
    assertThat(farPast.isBefore(year)).isTrue();
    assertThat(far.timeRemaining()).isGreaterThan(Duration.ofDays(99 * 365));
  }

  @Test
  void at_convertsTheWallClockInstantOnce() {
    ManualDeadlineClock clock = new ManualDeadlineClock();
    Deadline d = Deadline.at(clock.wallTime().plusMillis(300), clock);
    assertThat(d.timeRemaining()).isEqualTo(Duration.ofMillis(300));
    assertThat(Deadline.at(clock.wallTime().minusSeconds(1), clock).isExpired()).isTrue();
    assertThat(Deadline.at(Instant.MAX, clock).isExpired()).isFalse();
    assertThat(Deadline.at(Instant.MIN, clock).isExpired()).isTrue();
  }

  @Test
  void deadlinesOnDifferentClocks_compareByTimeRemaining() {
    Deadline a = Deadline.after(Duration.ofSeconds(1), new ManualDeadlineClock(42));
    Deadline b = Deadline.after(Duration.ofSeconds(2), new ManualDeadlineClock(Long.MAX_VALUE));
    assertThat(a.isBefore(b)).isTrue();
    assertThat(b.minimum(a)).isSameAs(a);
  }

  @Test
  void nullArguments_failFast() {
    assertThatThrownBy(() -> Deadline.after(null)).isInstanceOf(NullPointerException.class);
    assertThatThrownBy(() -> Deadline.after(Duration.ZERO, null))
        .isInstanceOf(NullPointerException.class);
  }

  @Test
  void toString_saysTheTimeRemaining() {
    ManualDeadlineClock clock = new ManualDeadlineClock();
    assertThat(Deadline.after(Duration.of(1500, ChronoUnit.MILLIS), clock))
        .hasToString("Deadline[1.500000000s from now]");
  }
}
