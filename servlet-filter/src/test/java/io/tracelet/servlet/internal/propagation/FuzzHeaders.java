package io.tracelet.servlet.internal.propagation;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;

/**
 * Request headers decoded from a fuzzer's bytes, in a text format that keeps the seed corpus
 * readable and hand-editable.
 *
 * <p>The bytes are decoded as UTF-8 (a malformed sequence becomes U+FFFD) and split into lines at
 * LF. A line {@code name:value} is one header (the value is everything after the first colon,
 * untrimmed, so leading spaces are fuzzed too); a line starting with {@code @} is a directive such
 * as {@code @config=b3}; a line without a colon is a header with an empty value. In names and
 * values {@code \n}, {@code \r}, {@code \t}, {@code \\} and {@code \}{@code uXXXX} are unescaped,
 * so a seed can hold a LF, a U+0000 or a U+FFFF; any other byte, control characters included, is
 * taken as it is.
 */
public final class FuzzHeaders implements HeaderSource {

  public final List<Map.Entry<String, String>> headers = new ArrayList<>();
  public final List<String> directives = new ArrayList<>();

  public static FuzzHeaders decode(byte[] data) {
    FuzzHeaders h = new FuzzHeaders();
    String text = new String(data, StandardCharsets.UTF_8);
    for (String line : text.split("\n", -1)) {
      if (line.startsWith("@")) {
        h.directives.add(line.substring(1));
        continue;
      }
      if (line.isEmpty()) {
        continue;
      }
      int colon = line.indexOf(':');
      String name = colon < 0 ? line : line.substring(0, colon);
      String value = colon < 0 ? "" : line.substring(colon + 1);
      h.headers.add(Map.entry(unescape(name), unescape(value)));
    }
    return h;
  }

  /** The value of directive {@code @key=value}, or null. */
  public String directive(String key) {
    for (String d : directives) {
      if (d.startsWith(key + "=")) {
        return d.substring(key.length() + 1);
      }
    }
    return null;
  }

  /** Every value of every header in order (the lines as one list, for single-parser targets). */
  public List<String> allValues() {
    List<String> out = new ArrayList<>(headers.size());
    for (Map.Entry<String, String> e : headers) {
      out.add(e.getValue());
    }
    return out;
  }

  @Override
  public Iterable<String> names() {
    LinkedHashSet<String> names = new LinkedHashSet<>();
    for (Map.Entry<String, String> e : headers) {
      names.add(e.getKey());
    }
    return names;
  }

  @Override
  public List<String> values(String name) {
    List<String> out = new ArrayList<>(2);
    for (Map.Entry<String, String> e : headers) {
      if (e.getKey().equalsIgnoreCase(name)) {
        out.add(e.getValue());
      }
    }
    return out;
  }

  public static String unescape(String s) {
    if (s.indexOf('\\') < 0) {
      return s;
    }
    StringBuilder sb = new StringBuilder(s.length());
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c != '\\' || i + 1 >= s.length()) {
        sb.append(c);
        continue;
      }
      char n = s.charAt(i + 1);
      switch (n) {
        case 'n' -> sb.append('\n');
        case 'r' -> sb.append('\r');
        case 't' -> sb.append('\t');
        case '\\' -> sb.append('\\');
        case 'u' -> {
          int cp = i + 6 <= s.length() ? hex4(s, i + 2) : -1;
          if (cp < 0) {
            sb.append(c);
            continue;
          }
          sb.append((char) cp);
          i += 4;
        }
        default -> {
          sb.append(c);
          continue;
        }
      }
      i++;
    }
    return sb.toString();
  }

  private static int hex4(String s, int from) {
    int v = 0;
    for (int i = from; i < from + 4; i++) {
      int d = Character.digit(s.charAt(i), 16);
      if (d < 0) {
        return -1;
      }
      v = v * 16 + d;
    }
    return v;
  }

  /** A carrier for injected headers: one value per name, names kept as the propagator set them. */
  public static FuzzHeaders of(Map<String, String> injected) {
    FuzzHeaders h = new FuzzHeaders();
    h.headers.addAll(injected.entrySet());
    return h;
  }
}
