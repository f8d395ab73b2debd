package io.tracelet;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.NullSource;
import org.junit.jupiter.params.provider.ValueSource;

class DeadlineHeaderTest {

  @Test
  void envoyExpectedTimeout_isPlainMilliseconds() {
    assertThat(DeadlineHeader.parseMillis("250")).isEqualTo(250);
    assertThat(DeadlineHeader.isGrpcTimeout("x-envoy-expected-rq-timeout-ms")).isFalse();
  }

  @Test
  void grpcTimeoutName_isComparedCaseInsensitively() {
    assertThat(DeadlineHeader.isGrpcTimeout("grpc-timeout")).isTrue();
    assertThat(DeadlineHeader.isGrpcTimeout("Grpc-Timeout")).isTrue();
    assertThat(DeadlineHeader.isGrpcTimeout("Grpc-Timeout-Ms")).isFalse();
    assertThat(DeadlineHeader.isGrpcTimeout(null)).isFalse();
  }

  @ParameterizedTest
  @CsvSource({
    "1n, 1",
    "100n, 100",
    "500u, 500000",
    "100m, 100000000",
    "5S, 5000000000",
    "2M, 120000000000",
    "1H, 3600000000000",
    "99999999m, 99999999000000",
    "00000001S, 1000000000",
  })
  void grpcTimeout_parsesEveryUnitToNanoseconds(String value, long nanos) {
    assertThat(DeadlineHeader.parseGrpcTimeoutNanos(value)).isEqualTo(nanos);
  }

  @Test
  void grpcTimeout_subMillisecondIsNeverRoundedUp() {
    assertThat(DeadlineHeader.parseGrpcTimeoutNanos("999999n"))
        .isLessThan(TimeUnit.MILLISECONDS.toNanos(1));
    assertThat(DeadlineHeader.parseGrpcTimeoutNanos("1u")).isEqualTo(1_000);
  }

  @Test
  void grpcTimeout_zeroIsADeadlineAlreadyPassed() {
    assertThat(DeadlineHeader.parseGrpcTimeoutNanos("0m")).isZero();
    assertThat(DeadlineHeader.parseGrpcTimeoutNanos("0n")).isZero();
  }

  @Test
  void grpcTimeout_hugeHoursSaturateInsteadOfOverflowing() {
    assertThat(DeadlineHeader.parseGrpcTimeoutNanos("99999999H")).isEqualTo(Long.MAX_VALUE);
  }

  @Test
  void grpcTimeout_surroundingSpacesAreNotPartOfTheValue() {
    assertThat(DeadlineHeader.parseGrpcTimeoutNanos(" 5S\t")).isEqualTo(5_000_000_000L);
  }

  @ParameterizedTest
  @NullSource
  @ValueSource(
      strings = {
        "",
        " ",
        "m",
        "100",
        "1x",
        "1s",
        "1h",
        "-5m",
        "+5m",
        "123456789m",
        "5 S",
        "5S5",
        "1.5S",
        "1e3m",
        "5mm",
        "٥m",
        "5\u00a0S",
        "0x10m"
      })
  void malformedGrpcTimeout_isAbsent(String value) {
    assertThat(DeadlineHeader.parseGrpcTimeoutNanos(value)).isEqualTo(-1);
  }

  @Test
  void formatGrpcTimeout_roundsDownToMilliseconds() {
    assertThat(DeadlineHeader.formatGrpcTimeout(TimeUnit.MILLISECONDS.toNanos(1_500) + 999_999))
        .isEqualTo("1500m");
    assertThat(DeadlineHeader.formatGrpcTimeout(TimeUnit.MILLISECONDS.toNanos(1))).isEqualTo("1m");
    assertThat(DeadlineHeader.formatGrpcTimeout(999_999)).isNull();
    assertThat(DeadlineHeader.formatGrpcTimeout(0)).isNull();
    assertThat(DeadlineHeader.formatGrpcTimeout(-1)).isNull();
  }

  @Test
  void formatGrpcTimeout_switchesToSecondsBeyondEightDigits() {
    assertThat(DeadlineHeader.formatGrpcTimeout(TimeUnit.MILLISECONDS.toNanos(99_999_999)))
        .isEqualTo("99999999m");
    assertThat(DeadlineHeader.formatGrpcTimeout(TimeUnit.MILLISECONDS.toNanos(100_000_999)))
        .isEqualTo("100000S");
    assertThat(DeadlineHeader.formatGrpcTimeout(Long.MAX_VALUE)).isEqualTo("99999999S");
  }

  @ParameterizedTest
  @ValueSource(longs = {1_000_000L, 1_500_000_000L, 99_999_999_000_000L, Long.MAX_VALUE})
  void formattedGrpcTimeout_parsesBackToNoMoreThanWasLeft(long remainingNanos) {
    long parsed =
        DeadlineHeader.parseGrpcTimeoutNanos(DeadlineHeader.formatGrpcTimeout(remainingNanos));
    assertThat(parsed).isPositive().isLessThanOrEqualTo(remainingNanos);
  }
}
