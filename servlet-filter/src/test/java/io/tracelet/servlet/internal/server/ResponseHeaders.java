package io.tracelet.servlet.internal.server;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;

/**
 * The headers the filter writes, collected as a list for tests; the filter itself hands them
 * straight to the response through a {@link HeaderSink}.
 */
public final class ResponseHeaders implements HeaderSink {

  /** The longest value we write. */
  static final int MAX_VALUE_LENGTH = 512;

  private final List<Map.Entry<String, String>> headers = new ArrayList<>(4);

  /** The headers {@code core} writes for {@code exchange}. */
  static ResponseHeaders of(ServerTracing core, Exchange exchange) {
    ResponseHeaders out = new ResponseHeaders();
    core.writeResponseHeaders(exchange, out);
    return out;
  }

  @Override
  public void set(String name, String value) {
    headers.add(Map.entry(name, value));
  }

  /** Whether {@code value} may be written as a header: {@code ^[\x21-\x7E]{1,512}$}. */
  static boolean isValidValue(String value) {
    return value != null
        && value.length() <= MAX_VALUE_LENGTH
        && HttpSemconv.isPrintable(value, false);
  }

  /** The headers in the order added. */
  public List<Map.Entry<String, String>> list() {
    return Collections.unmodifiableList(headers);
  }
}
