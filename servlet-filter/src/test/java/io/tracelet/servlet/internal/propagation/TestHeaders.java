package io.tracelet.servlet.internal.propagation;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;

/** Headers as a list of name/value pairs, matched case-insensitively like a servlet container. */
public final class TestHeaders implements HeaderSource {

  private final List<String[]> headers = new ArrayList<>();

  public static TestHeaders of(String... namesAndValues) {
    TestHeaders h = new TestHeaders();
    for (int i = 0; i < namesAndValues.length; i += 2) {
      h.headers.add(new String[] {namesAndValues[i], namesAndValues[i + 1]});
    }
    return h;
  }

  @Override
  public Iterable<String> names() {
    LinkedHashSet<String> names = new LinkedHashSet<>();
    for (String[] h : headers) {
      names.add(h[0]);
    }
    return names;
  }

  @Override
  public List<String> values(String name) {
    List<String> out = new ArrayList<>();
    for (String[] h : headers) {
      if (h[0].equalsIgnoreCase(name)) {
        out.add(h[1]);
      }
    }
    return out;
  }
}
