package io.tracelet.servlet.internal.propagation;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Parses and bounds {@code tracestate} per W3C Trace Context Level 2.
 *
 * <p>OpenTelemetry Java's own parsing (1.67) drops the whole tracestate when a key repeats or when
 * there are more than 32 members, and reads one header only; Level 2 asks to combine repeated
 * headers, allow at most 32 members, and a duplicated key must not cost the other vendors their
 * entries. So the filter hands OpenTelemetry's propagator a tracestate already normalized here.
 *
 * <p>Keys follow the Level 2 grammar ({@code isValidKey}). OpenTelemetry Java (1.68) still checks
 * keys against Level 1's {@code tenant@system} rule and drops the whole tracestate when one key
 * fails it; for a tracestate with a key only Level 2 allows (such as {@code foo@}, {@code
 * foo@bar@baz} or {@code 1foo}) the filter puts the list back as a {@link Level2TraceState}.
 */
public final class TraceStateCodec {

  /** The most members a tracestate keeps. */
  public static final int MAX_MEMBERS = 32;

  /** The longest outbound tracestate, in characters. */
  public static final int MAX_OUTBOUND_LENGTH = 512;

  // Level 2 truncation: entries longer than this are dropped first.
  private static final int LONG_ENTRY = 128;

  private TraceStateCodec() {}

  /**
   * Combines the values of every {@code tracestate} header in order and returns a normalized
   * header: list members without surrounding whitespace, empty members dropped, a repeated key kept
   * only where it first appears (the leftmost member is the most recent). Returns {@code null} when
   * there is nothing, when a member is malformed, or when there are more than 32 distinct members
   * (the spec says a tracestate that cannot be parsed is not propagated at all).
   */
  public static String normalize(List<String> headerValues) {
    if (headerValues.size() == 1 && isNormal(headerValues.get(0))) {
      // The usual case: one header, written by a tracer that already sends normal lists. Nothing
      // to change, so nothing is allocated (no split, no map, no rebuilt string).
      return headerValues.get(0);
    }
    return rebuild(headerValues);
  }

  /** {@link #normalize} the long way: parse every member, then write the list again. */
  public static String rebuild(List<String> headerValues) {
    Map<String, String> members = new LinkedHashMap<>();
    for (String header : headerValues) {
      if (header == null) {
        continue;
      }
      for (String part : header.split(",", -1)) {
        String member = trimOws(part);
        if (member.isEmpty()) {
          continue;
        }
        int eq = member.indexOf('=');
        if (eq <= 0) {
          return null;
        }
        String key = member.substring(0, eq);
        String value = member.substring(eq + 1);
        if (!isValidKey(key) || !isValidValue(value)) {
          return null;
        }
        members.putIfAbsent(key, value);
        if (members.size() > MAX_MEMBERS) {
          // More than 32 distinct members is not a valid tracestate (W3C Trace Context: "a
          // maximum of 32 list-members"; its test suite expects 33 to be discarded). Keeping the
          // first 32 would forward a list no sender wrote; the traceparent is still used.
          return null;
        }
      }
    }
    if (members.isEmpty()) {
      return null;
    }
    StringBuilder sb = new StringBuilder();
    for (Map.Entry<String, String> e : members.entrySet()) {
      if (sb.length() > 0) {
        sb.append(',');
      }
      sb.append(e.getKey()).append('=').append(e.getValue());
    }
    return sb.toString();
  }

  /**
   * Bounds an outbound tracestate to 512 characters by removing whole entries: first the entries
   * longer than 128 characters, then from the end (the oldest), as Level 2 recommends.
   */
  public static String truncate(String header) {
    if (header == null || header.length() <= MAX_OUTBOUND_LENGTH) {
      return header;
    }
    List<String> entries = new ArrayList<>(List.of(header.split(",")));
    int length = header.length();
    for (int i = entries.size() - 1; i >= 0 && length > MAX_OUTBOUND_LENGTH; i--) {
      if (entries.get(i).length() > LONG_ENTRY) {
        length -= entries.get(i).length() + 1;
        entries.remove(i);
      }
    }
    while (length > MAX_OUTBOUND_LENGTH && !entries.isEmpty()) {
      length -= entries.remove(entries.size() - 1).length() + 1;
    }
    return entries.isEmpty() ? null : String.join(",", entries);
  }

  /**
   * Whether {@code header} is already what {@link #normalize} would return for it alone: 1 to 32
   * members separated by single commas, no whitespace around them, each a valid key and value, no
   * key twice. One pass over the characters (and at most 32 x 32 key comparisons), no allocation.
   */
  public static boolean isNormal(String header) {
    if (header == null || header.isEmpty()) {
      return false;
    }
    int members = 0;
    int start = 0;
    int length = header.length();
    while (start <= length) {
      int end = header.indexOf(',', start);
      if (end < 0) {
        end = length;
      }
      int eq = header.indexOf('=', start);
      if (eq <= start
          || eq >= end
          || !isValidKey(header, start, eq)
          || !isValidValue(header, eq + 1, end)
          || ++members > MAX_MEMBERS
          || hasKeyBefore(header, start, eq)) {
        return false;
      }
      start = end + 1;
    }
    return true;
  }

  /**
   * Whether a member before {@code start} (all already checked) has the key {@code [start, eq)}.
   */
  private static boolean hasKeyBefore(String header, int start, int eq) {
    int keyLength = eq - start;
    for (int m = 0; m < start; m = header.indexOf(',', m) + 1) {
      if (header.indexOf('=', m) - m == keyLength
          && header.regionMatches(m, header, start, keyLength)) {
        return true;
      }
    }
    return false;
  }

  public static String trimOws(String s) {
    int start = 0;
    int end = s.length();
    while (start < end && (s.charAt(start) == ' ' || s.charAt(start) == '\t')) {
      start++;
    }
    while (end > start && (s.charAt(end - 1) == ' ' || s.charAt(end - 1) == '\t')) {
      end--;
    }
    return s.substring(start, end);
  }

  /**
   * The key grammar of W3C Trace Context Level 2 (https://www.w3.org/TR/trace-context-2/#key):
   * {@code key = ( lcalpha / DIGIT ) 0*255 ( keychar )}, where a keychar is a lowercase letter, a
   * digit, {@code _}, {@code -}, {@code *}, {@code /} or {@code @}. So a key is 1 to 256 characters
   * and starts with a letter or a digit; {@code @} is an ordinary character, since Level 2 dropped
   * Level 1's separate {@code tenant@system} form and its limits (241 and 14).
   *
   * <p>On the request path for every member, hence one pass without a regular expression or
   * allocation.
   */
  public static boolean isValidKey(String key) {
    return isValidKey(key, 0, key.length());
  }

  private static boolean isValidKey(String s, int from, int to) {
    int length = to - from;
    if (length <= 0 || length > 256) {
      return false;
    }
    char first = s.charAt(from);
    if (!isLcAlpha(first) && !isDigit(first)) {
      return false;
    }
    for (int i = from + 1; i < to; i++) {
      if (!isKeyChar(s.charAt(i))) {
        return false;
      }
    }
    return true;
  }

  private static boolean isKeyChar(char c) {
    return isLcAlpha(c) || isDigit(c) || c == '_' || c == '-' || c == '*' || c == '/' || c == '@';
  }

  /** {@code value = 0*255(chr) nblk-chr}: printable ASCII except {@code ,} and {@code =}. */
  public static boolean isValidValue(String value) {
    return isValidValue(value, 0, value.length());
  }

  private static boolean isValidValue(String s, int from, int to) {
    int length = to - from;
    if (length <= 0 || length > 256 || s.charAt(to - 1) == ' ') {
      return false;
    }
    for (int i = from; i < to; i++) {
      char c = s.charAt(i);
      if (c < 0x20 || c > 0x7e || c == ',' || c == '=') {
        return false;
      }
    }
    return true;
  }

  private static boolean isLcAlpha(char c) {
    return c >= 'a' && c <= 'z';
  }

  private static boolean isDigit(char c) {
    return c >= '0' && c <= '9';
  }
}
