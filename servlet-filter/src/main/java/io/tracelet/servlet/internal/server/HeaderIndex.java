package io.tracelet.servlet.internal.server;

import java.util.ArrayList;
import java.util.List;

/**
 * The request headers a handler reads (its propagator's fields, the request ID, deadline and trace
 * ID headers, the user agent), numbered so that a container can hand them over in one pass over the
 * request's headers ({@link CapturedHeaders}) instead of one scan per name. Made once per handler;
 * at most {@link #MAX} names get a slot, any further name is looked up as before.
 */
public final class HeaderIndex {

  /** The most names with a slot: one field each in {@link CapturedHeaders}. */
  static final int MAX = 8;

  // The names as given (callers ask with these very strings, and Jetty names the headers it knows
  // with the same interned literals), and a bit per name length up to 63 for a quick "no".
  private final String[] names;
  private final long lengths;

  HeaderIndex(Iterable<String> wanted) {
    List<String> kept = new ArrayList<>();
    long lengthBits = 0;
    for (String name : wanted) {
      if (name == null || name.isEmpty() || kept.size() == MAX || contains(kept, name)) {
        continue;
      }
      kept.add(name);
      lengthBits |= lengthBit(name.length());
    }
    this.names = kept.toArray(new String[0]);
    this.lengths = lengthBits;
  }

  private static boolean contains(List<String> names, String name) {
    for (String n : names) {
      if (n.equalsIgnoreCase(name)) {
        return true;
      }
    }
    return false;
  }

  private static long lengthBit(int length) {
    return 1L << Math.min(length, 63);
  }

  /** The slot of the header {@code name} (any case), or -1 when it has none. */
  public int slot(String name) {
    String[] n = names;
    for (int i = 0; i < n.length; i++) {
      if (n[i] == name) {
        return i;
      }
    }
    if ((lengths & lengthBit(name.length())) == 0) {
      return -1;
    }
    for (int i = 0; i < n.length; i++) {
      if (n[i].equalsIgnoreCase(name)) {
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
