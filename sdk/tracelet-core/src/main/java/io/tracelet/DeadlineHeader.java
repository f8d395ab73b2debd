package io.tracelet;

import java.util.concurrent.TimeUnit;

/**
 * The wire format of a propagated deadline: the time the caller is still willing to wait, as a
 * whole number of milliseconds, in a header ({@value #DEFAULT_NAME} unless configured otherwise).
 *
 * <p>A relative time rather than an instant, so the two machines' clocks need not agree (gRPC's
 * {@code grpc-timeout} does the same). The sender rounds down, so the receiver never believes it
 * has more time than the caller gives it. The receiver accepts only 1 to 9 ASCII digits (at most
 * about 11.5 days) and treats anything else as absent; it should also clamp the value to its own
 * maximum.
 *
 * <pre>{@code
 * X-Request-Timeout-Ms: 1500
 * x-envoy-expected-rq-timeout-ms: 1500
 * grpc-timeout: 1500m
 * }</pre>
 *
 * <p>Envoy (and so Istio) sends the route timeout as {@code x-envoy-expected-rq-timeout-ms}, the
 * same plain milliseconds, so it needs nothing more than naming it. The header named {@value
 * #GRPC_TIMEOUT_NAME} (compared case-insensitively) has its own syntax instead, from the gRPC over
 * HTTP/2 spec: 1 to 8 digits and a unit; see {@link #parseGrpcTimeoutNanos} and {@link
 * #formatGrpcTimeout}. {@link #isGrpcTimeout} tells the two apart.
 */
public final class DeadlineHeader {

  /** The default header name. */
  public static final String DEFAULT_NAME = "X-Request-Timeout-Ms";

  /** The gRPC header, whose values carry a unit ({@code 100m}, {@code 5S}). */
  public static final String GRPC_TIMEOUT_NAME = "grpc-timeout";

  private static final int MAX_DIGITS = 9;
  private static final int GRPC_MAX_DIGITS = 8;
  private static final long GRPC_MAX_VALUE = 99_999_999L;

  private DeadlineHeader() {}

  /**
   * Formats the time remaining for the header, rounded down to milliseconds; returns {@code null}
   * when less than one millisecond is left (the caller should not send the request at all).
   */
  public static String format(long remainingNanos) {
    long millis = TimeUnit.NANOSECONDS.toMillis(remainingNanos);
    if (millis < 1) {
      return null;
    }
    return Long.toString(Math.min(millis, 999_999_999L));
  }

  /**
   * Parses a header value into milliseconds; returns {@code -1} for anything that is not 1 to 9
   * ASCII digits with a positive value (surrounding spaces and tabs are allowed).
   */
  public static long parseMillis(CharSequence value) {
    if (value == null) {
      return -1;
    }
    int start = firstNonOws(value);
    int end = endWithoutOws(value, start);
    long millis = digits(value, start, end, MAX_DIGITS);
    return millis > 0 ? millis : -1;
  }

  /**
   * Whether {@code headerName} is {@value #GRPC_TIMEOUT_NAME}, whose values use the gRPC syntax.
   */
  public static boolean isGrpcTimeout(String headerName) {
    return GRPC_TIMEOUT_NAME.equalsIgnoreCase(headerName);
  }

  /**
   * Formats the time remaining for {@value #GRPC_TIMEOUT_NAME}, rounded down to milliseconds
   * ({@code 1500m}), or to seconds ({@code 100000S}) when the milliseconds need more than the 8
   * digits gRPC allows; returns {@code null} when less than one millisecond is left, as {@link
   * #format} does.
   */
  public static String formatGrpcTimeout(long remainingNanos) {
    long millis = TimeUnit.NANOSECONDS.toMillis(remainingNanos);
    if (millis < 1) {
      return null;
    }
    if (millis <= GRPC_MAX_VALUE) {
      return millis + "m";
    }
    return Math.min(TimeUnit.MILLISECONDS.toSeconds(millis), GRPC_MAX_VALUE) + "S";
  }

  /**
   * Parses a {@value #GRPC_TIMEOUT_NAME} value into nanoseconds; returns {@code -1} for anything
   * that is not 1 to 8 ASCII digits followed by one unit: {@code n}, {@code u}, {@code m}, {@code
   * S}, {@code M} or {@code H} (surrounding spaces and tabs are allowed, none inside).
   *
   * <p>Zero is accepted and returns {@code 0}: gRPC servers (grpc-java, grpc-go) read {@code 0m} as
   * a deadline that has already passed, so the request starts cancelled rather than unbounded. No
   * value is rounded up, so a sub-millisecond timeout stays as short as the caller sent it. Hours
   * beyond {@code Long.MAX_VALUE} nanoseconds (about 292 years) saturate there.
   */
  public static long parseGrpcTimeoutNanos(CharSequence value) {
    if (value == null) {
      return -1;
    }
    int start = firstNonOws(value);
    int end = endWithoutOws(value, start);
    if (end <= start) {
      return -1;
    }
    long amount = digits(value, start, end - 1, GRPC_MAX_DIGITS);
    if (amount < 0) {
      return -1;
    }
    TimeUnit unit;
    switch (value.charAt(end - 1)) {
      case 'n' -> unit = TimeUnit.NANOSECONDS;
      case 'u' -> unit = TimeUnit.MICROSECONDS;
      case 'm' -> unit = TimeUnit.MILLISECONDS;
      case 'S' -> unit = TimeUnit.SECONDS;
      case 'M' -> unit = TimeUnit.MINUTES;
      case 'H' -> unit = TimeUnit.HOURS;
      default -> {
        return -1;
      }
    }
    // TimeUnit.toNanos saturates at Long.MAX_VALUE instead of overflowing.
    return unit.toNanos(amount);
  }

  /**
   * The value of the ASCII digits in {@code [from, to)}, or {@code -1} unless there are 1 to {@code
   * maxDigits} of them and nothing else.
   */
  private static long digits(CharSequence value, int from, int to, int maxDigits) {
    int length = to - from;
    if (length < 1 || length > maxDigits) {
      return -1;
    }
    long n = 0;
    for (int i = from; i < to; i++) {
      char c = value.charAt(i);
      if (c < '0' || c > '9') {
        return -1;
      }
      n = n * 10 + (c - '0');
    }
    return n;
  }

  private static int firstNonOws(CharSequence value) {
    int start = 0;
    while (start < value.length() && isOws(value.charAt(start))) {
      start++;
    }
    return start;
  }

  private static int endWithoutOws(CharSequence value, int start) {
    int end = value.length();
    while (end > start && isOws(value.charAt(end - 1))) {
      end--;
    }
    return end;
  }

  private static boolean isOws(char c) {
    return c == ' ' || c == '\t';
  }
}
