package io.tracelet.servlet.internal.propagation;

import io.opentelemetry.context.propagation.TextMapGetter;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;

/**
 * Reads request headers for OpenTelemetry's propagators, fixing on the way what W3C Trace Context
 * Level 2 and W3C Baggage require and the propagators alone do not do (measured against
 * opentelemetry-api 1.67 in {@code IncomingGetterTest}):
 *
 * <ul>
 *   <li>{@code traceparent} sent more than once (or folded into one line with a comma) is invalid,
 *       so a new trace starts; OpenTelemetry would read whichever value the container returns
 *       first.
 *   <li>{@code tracestate} sent more than once is combined in order, then normalized by {@link
 *       TraceStateCodec}: OpenTelemetry drops the whole tracestate on a duplicated key or more than
 *       32 members.
 *   <li>Optional whitespace around values is removed: OpenTelemetry rejects a {@code traceparent}
 *       with a leading space.
 *   <li>{@code baggage} over the W3C limits (64 members, 8192 bytes across all headers) is dropped
 *       whole rather than partly kept, so an oversize header never half-applies.
 * </ul>
 *
 * Header names are matched case-insensitively (the {@link HeaderSource} contract).
 */
public final class IncomingGetter implements TextMapGetter<HeaderSource> {

  /** The W3C baggage limit on members, across all headers. */
  public static final int MAX_BAGGAGE_MEMBERS = 64;

  /** The W3C baggage limit on bytes, across all headers. */
  public static final int MAX_BAGGAGE_BYTES = 8192;

  /** The only instance: it holds no state. */
  public static final IncomingGetter INSTANCE = new IncomingGetter();

  private IncomingGetter() {}

  // Deprecated in TextMapGetter 1.67, but Jaeger's propagator still reads baggage through it.
  @SuppressWarnings("deprecation")
  @Override
  public Iterable<String> keys(HeaderSource carrier) {
    // Jaeger's and OT's propagators make a baggage key of every header name with their prefix
    // (uberctx-, ot-baggage-) without checking it. A name that is not an RFC 9110 token is no valid
    // header, but a container may still hand it over, so it is left out here: found by fuzzing
    // (ServerTracingFuzzTest), a non-ASCII name became a baggage key and then an outbound header.
    List<String> names = new ArrayList<>();
    for (String name : carrier.names()) {
      if (isToken(name)) {
        names.add(name);
      }
    }
    return names;
  }

  /** Whether {@code s} is an RFC 9110 token: the only valid header names. */
  public static boolean isToken(String s) {
    if (s == null || s.isEmpty()) {
      return false;
    }
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      boolean alnum = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
      if (!alnum && "!#$%&'*+-.^_`|~".indexOf(c) < 0) {
        return false;
      }
    }
    return true;
  }

  @Override
  public String get(HeaderSource carrier, String key) {
    if (carrier == null || key == null) {
      return null;
    }
    // Every request asks for these few headers, most of them absent: a single-valued read (which
    // allocates nothing in Jetty or Tomcat) comes first, and a list of values only when needed.
    switch (key.toLowerCase(Locale.ROOT)) {
      case "traceparent":
        return traceparent(carrier.single(key));
      case "tracestate":
        return carrier.first(key) == null ? null : TraceStateCodec.normalize(carrier.values(key));
      case "baggage":
        if (carrier.first(key) == null) {
          return null;
        }
        List<String> baggage = baggage(carrier.values(key));
        return baggage.isEmpty() ? null : String.join(",", baggage);
      case "uber-trace-id":
        // OpenTelemetry's Jaeger propagator up to 1.67 URL-decodes a value without ':' and lets
        // URLDecoder's IllegalArgumentException for a bad %-escape out of extract(), so one hostile
        // header would end the extraction (and the other propagators of a composite). Found by
        // fuzzing (ServerTracingFuzzTest); such a value is treated as absent.
        String uberRaw = carrier.first(key);
        if (uberRaw == null) {
          return null;
        }
        String uber = TraceStateCodec.trimOws(uberRaw);
        return hasBadPercentEscape(uber) ? null : uber;
      default:
        String value = carrier.first(key);
        return value == null ? null : TraceStateCodec.trimOws(value);
    }
  }

  @Override
  public Iterator<String> getAll(HeaderSource carrier, String key) {
    if (carrier == null || key == null) {
      return Collections.emptyIterator();
    }
    String lower = key.toLowerCase(Locale.ROOT);
    if (lower.equals("traceparent") || lower.equals("tracestate")) {
      String one = get(carrier, key);
      return one == null ? Collections.emptyIterator() : List.of(one).iterator();
    }
    if (carrier.first(key) == null) {
      return Collections.emptyIterator();
    }
    List<String> values = carrier.values(key);
    switch (lower) {
      case "baggage":
        return baggage(values).iterator();
      default:
        List<String> trimmed = new ArrayList<>(values.size());
        for (String v : values) {
          trimmed.add(TraceStateCodec.trimOws(v));
        }
        return trimmed.iterator();
    }
  }

  /** The one {@code traceparent} value, trimmed; null when absent, repeated or folded. */
  private static String traceparent(String single) {
    if (single == null) {
      return null;
    }
    String v = TraceStateCodec.trimOws(single);
    return v.indexOf(',') >= 0 ? null : v;
  }

  /** Whether {@code v} has a {@code %} not followed by two ASCII hex digits. */
  public static boolean hasBadPercentEscape(String v) {
    for (int i = v.indexOf('%'); i >= 0; i = v.indexOf('%', i + 1)) {
      if (i + 2 >= v.length() || !isHex(v.charAt(i + 1)) || !isHex(v.charAt(i + 2))) {
        return true;
      }
    }
    return false;
  }

  /** The baggage header values, trimmed, or nothing when over the limits. */
  static List<String> baggage(List<String> values) {
    int bytes = 0;
    int members = 0;
    List<String> out = new ArrayList<>(values.size());
    for (String raw : values) {
      String v = TraceStateCodec.trimOws(raw);
      // Header values are ISO-8859-1 on the wire: one byte per char.
      bytes += v.length();
      if (bytes > MAX_BAGGAGE_BYTES) {
        return List.of();
      }
      // Counted in place rather than split: the work stays bounded by the bytes already
      // admitted, with no allocation per member and a stop at the 65th member.
      members = countMembers(v, members);
      if (members > MAX_BAGGAGE_MEMBERS) {
        return List.of();
      }
      String kept = withoutUnsafeMembers(v);
      if (!kept.isEmpty()) {
        out.add(kept);
      }
    }
    return out;
  }

  /**
   * {@code v} without the members OpenTelemetry would warn about on every request: a {@code %} not
   * followed by two hex digits (its parser logs a WARNING with a stack trace per such member, so a
   * caller could flood the log), or a character outside printable ASCII (W3C baggage is ASCII;
   * anything else must be percent-encoded, and OpenTelemetry warns about it in properties). The
   * other members are kept. Returns {@code v} itself when nothing is dropped, the usual case.
   */
  public static String withoutUnsafeMembers(String v) {
    if (isSafe(v, 0, v.length())) {
      return v;
    }
    StringBuilder sb = new StringBuilder(v.length());
    int start = 0;
    while (start <= v.length()) {
      int end = v.indexOf(',', start);
      if (end < 0) {
        end = v.length();
      }
      if (isSafe(v, start, end)) {
        if (sb.length() > 0) {
          sb.append(',');
        }
        sb.append(v, start, end);
      }
      start = end + 1;
    }
    return sb.toString();
  }

  private static boolean isSafe(String v, int from, int to) {
    for (int i = from; i < to; i++) {
      char c = v.charAt(i);
      if (c == '%') {
        if (i + 2 >= to || !isHex(v.charAt(i + 1)) || !isHex(v.charAt(i + 2))) {
          return false;
        }
      } else if ((c < 0x20 && c != '\t') || c > 0x7e) {
        return false;
      }
    }
    return true;
  }

  private static boolean isHex(char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
  }

  /** {@code counted} plus the non-blank comma-separated members of {@code v}, up to the limit. */
  private static int countMembers(String v, int counted) {
    int members = counted;
    boolean blank = true;
    for (int i = 0; i <= v.length() && members <= MAX_BAGGAGE_MEMBERS; i++) {
      char c = i == v.length() ? ',' : v.charAt(i);
      if (c == ',') {
        if (!blank) {
          members++;
        }
        blank = true;
      } else if (!Character.isWhitespace(c)) {
        blank = false;
      }
    }
    return members;
  }
}
