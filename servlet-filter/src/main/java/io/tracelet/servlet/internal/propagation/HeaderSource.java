package io.tracelet.servlet.internal.propagation;

import java.util.List;

/** The request headers as the core sees them: container agnostic, so it is testable alone. */
public interface HeaderSource {

  /** Every header name present (any case). */
  Iterable<String> names();

  /**
   * Every value of the header {@code name}, matched case-insensitively, in the order received;
   * empty when absent.
   */
  List<String> values(String name);

  /** The first value of {@code name}, or {@code null}. */
  default String first(String name) {
    List<String> v = values(name);
    return v.isEmpty() ? null : v.get(0);
  }

  /**
   * The value of {@code name} when the header is present exactly once; {@code null} when it is
   * absent or repeated. Containers can answer this without building a list.
   */
  default String single(String name) {
    List<String> v = values(name);
    return v.size() == 1 ? v.get(0) : null;
  }
}
