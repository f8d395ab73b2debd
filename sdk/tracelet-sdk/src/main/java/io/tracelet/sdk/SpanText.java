package io.tracelet.sdk;

import io.opentelemetry.api.trace.SpanContext;

/** Formatting shared by the span log and the span tree; every untrusted string passes here. */
final class SpanText {

  /** Longest span name written to a log line; longer names are cut and end with "...". */
  static final int MAX_NAME_LENGTH = 120;

  private SpanText() {}

  /**
   * Makes a span name safe for a single log line: control characters (CR and LF included) become
   * {@code ?}, quote and backslash are escaped so {@code name='..'} stays parseable, and the result
   * is bounded. Returns {@code name} itself when it is already clean.
   */
  static String sanitizeName(String name) {
    if (name == null) {
      return "";
    }
    int length = name.length();
    int i = 0;
    while (i < length && i < MAX_NAME_LENGTH && isPlain(name.charAt(i))) {
      i++;
    }
    if (i == length) {
      return name;
    }
    StringBuilder out = new StringBuilder(Math.min(length, MAX_NAME_LENGTH) + 8);
    out.append(name, 0, i);
    for (; i < length && out.length() < MAX_NAME_LENGTH; i++) {
      char c = name.charAt(i);
      if (c == '\'' || c == '\\') {
        out.append('\\').append(c);
      } else if (isControl(c)) {
        out.append('?');
      } else {
        out.append(c);
      }
    }
    if (i < length) {
      out.append("...");
    }
    return out.toString();
  }

  private static boolean isPlain(char c) {
    return c != '\'' && c != '\\' && !isControl(c);
  }

  static boolean isControl(char c) {
    // C0, DEL, C1, and the Unicode line/paragraph separators some log viewers break on.
    return c < 0x20 || (c >= 0x7f && c <= 0x9f) || c == '\u2028' || c == '\u2029';
  }

  /** Appends the parent's span ID, or {@code -} for a root. */
  /**
   * Starts a span log line: {@code span <event> trace=.. span=.. parent=.. name='..'}, the part
   * every line about one span shares.
   */
  static StringBuilder head(String event, SpanContext span, SpanContext parent, String name) {
    StringBuilder line = new StringBuilder(192);
    line.append("span ")
        .append(event)
        .append(" trace=")
        .append(span.getTraceId())
        .append(" span=")
        .append(span.getSpanId())
        .append(" parent=");
    return appendParent(line, parent).append(" name='").append(sanitizeName(name)).append('\'');
  }

  static StringBuilder appendParent(StringBuilder out, SpanContext parent) {
    return out.append(parent.isValid() ? parent.getSpanId() : "-");
  }

  /** Appends {@code nanos} as milliseconds with microsecond precision, e.g. {@code 50.123ms}. */
  static StringBuilder appendMillis(StringBuilder out, long nanos) {
    if (nanos < 0) {
      out.append('-');
      nanos = nanos == Long.MIN_VALUE ? Long.MAX_VALUE : -nanos;
    }
    long micros = nanos / 1_000;
    long fraction = micros % 1_000;
    out.append(micros / 1_000).append('.');
    if (fraction < 100) {
      out.append('0');
    }
    if (fraction < 10) {
      out.append('0');
    }
    return out.append(fraction).append("ms");
  }
}
