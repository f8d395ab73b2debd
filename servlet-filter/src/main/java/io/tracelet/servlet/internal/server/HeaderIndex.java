package io.tracelet.servlet.internal.server;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The request headers a handler reads (its propagator's fields, the request ID, deadline and trace
 * ID headers, the user agent), numbered so that a container can hand them over in one pass over the
 * request's headers ({@link CapturedHeaders}) instead of one scan per name. Made once per handler;
 * at most {@link #MAX} names get a slot, any further name is looked up as before.
 */
public final class HeaderIndex {

  /** The most names with a slot: one field each in {@link CapturedHeaders}. */
  static final int MAX = 8;

  private final String[] names;

  HeaderIndex(Iterable<String> wanted) {
    List<String> kept = new ArrayList<>();
    for (String name : wanted) {
      if (name == null || name.isEmpty() || kept.size() == MAX) {
        continue;
      }
      String lower = name.toLowerCase(Locale.ROOT);
      if (!kept.contains(lower)) {
        kept.add(lower);
      }
    }
    this.names = kept.toArray(new String[0]);
  }

  /** The slot of the header {@code name} (any case), or -1 when it has none. */
  public int slot(String name) {
    String[] n = names;
    for (int i = 0; i < n.length; i++) {
      // Most names asked for are the very strings this index was built from, or differ in length.
      String candidate = n[i];
      if (candidate == name || candidate.equalsIgnoreCase(name)) {
        return i;
      }
    }
    return -1;
  }

  /** How many names have a slot. */
  int size() {
    return names.length;
  }
}
