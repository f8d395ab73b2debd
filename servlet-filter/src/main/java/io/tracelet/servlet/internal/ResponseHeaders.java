package io.tracelet.servlet.internal;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;

/**
 * The headers the filter writes, collected as a list (for inspection and tests); the filter itself
 * hands them straight to the response through a {@link HeaderSink}.
 */
public final class ResponseHeaders implements HeaderSink {

  /** The longest value we write. */
  static final int MAX_VALUE_LENGTH = 512;

  private final List<Map.Entry<String, String>> headers = new ArrayList<>(4);

  @Override
  public void set(String name, String value) {
    headers.add(Map.entry(name, value));
  }

  /** Whether {@code value} may be written as a header: {@code ^[\x21-\x7E]{1,512}$}. */
  static boolean isValidValue(String value) {
    return value != null && value.length() <= MAX_VALUE_LENGTH && isPrintable(value, false);
  }

  /** The headers in the order added. */
  public List<Map.Entry<String, String>> list() {
    return Collections.unmodifiableList(headers);
  }

  /**
   * Whether {@code s} is non-empty visible ASCII ({@code 0x21-0x7E}), with spaces ({@code 0x20})
   * too when {@code spaceOk}: never CR, LF or other control characters.
   */
  static boolean isPrintable(String s, boolean spaceOk) {
    if (s.isEmpty()) {
      return false;
    }
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c > 0x7e || c < 0x20 || (c == 0x20 && !spaceOk)) {
        return false;
      }
    }
    return true;
  }
}
