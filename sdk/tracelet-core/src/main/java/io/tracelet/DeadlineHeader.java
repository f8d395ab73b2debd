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
 * }</pre>
 */
public final class DeadlineHeader {

  /** The default header name. */
  public static final String DEFAULT_NAME = "X-Request-Timeout-Ms";

  private static final int MAX_DIGITS = 9;

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
    int start = 0;
    int end = value.length();
    while (start < end && isOws(value.charAt(start))) {
      start++;
    }
    while (end > start && isOws(value.charAt(end - 1))) {
      end--;
    }
    int length = end - start;
    if (length < 1 || length > MAX_DIGITS) {
      return -1;
    }
    long millis = 0;
    for (int i = start; i < end; i++) {
      char c = value.charAt(i);
      if (c < '0' || c > '9') {
        return -1;
      }
      millis = millis * 10 + (c - '0');
    }
    return millis > 0 ? millis : -1;
  }

  private static boolean isOws(char c) {
    return c == ' ' || c == '\t';
  }
}
