package io.tracelet.servlet.internal.server;

import io.tracelet.servlet.internal.propagation.HeaderSource;
import java.util.List;

/**
 * A request's headers as the handler reads them: where the container can, the headers with a slot
 * in the handler's {@link HeaderIndex} are handed over in one pass ({@link #capture}) and answered
 * from here; every other name, and every name when nothing was captured, is looked up in the
 * container. A request carries a handful of headers the handler asks about eight times (the
 * propagators, the request ID, the deadline, the trace ID header, the user agent, the rejected
 * counts), and each lookup through the servlet API is a scan of the request's headers.
 *
 * <p>The captured values are fields of the per-request object rather than an array, so capturing
 * allocates nothing.
 */
public abstract class CapturedHeaders implements HeaderSource {

  // Set once every header was captured; until then lookups go to the container.
  private HeaderIndex index;
  // Bit i: slot i was seen (once or more) and seen more than once.
  private int present;
  private int repeated;
  private String h0;
  private String h1;
  private String h2;
  private String h3;
  private String h4;
  private String h5;
  private String h6;
  private String h7;

  /**
   * One header of the request, in the order received; call it for each of them with the same {@code
   * headerIndex}, then {@link #captured}.
   */
  public final void capture(HeaderIndex headerIndex, String name, String value) {
    int slot = headerIndex.slot(name);
    if (slot < 0) {
      return;
    }
    int bit = 1 << slot;
    if ((present & bit) != 0) {
      repeated |= bit;
    } else {
      present |= bit;
      set(slot, value);
    }
  }

  /** Every header was handed over: lookups of the names {@code headerIndex} holds answer here. */
  public final void captured(HeaderIndex headerIndex) {
    this.index = headerIndex;
  }

  private int slotOf(String name) {
    HeaderIndex i = index;
    return i == null ? -1 : i.slot(name);
  }

  @Override
  public final String first(String name) {
    int slot = slotOf(name);
    return slot < 0 ? containerFirst(name) : get(slot);
  }

  @Override
  public final String single(String name) {
    int slot = slotOf(name);
    if (slot < 0) {
      return containerSingle(name);
    }
    return (repeated & (1 << slot)) != 0 ? null : get(slot);
  }

  @Override
  public final List<String> values(String name) {
    int slot = slotOf(name);
    if (slot < 0 || (repeated & (1 << slot)) != 0) {
      return containerValues(name);
    }
    if ((present & (1 << slot)) == 0) {
      return List.of();
    }
    String value = get(slot);
    return value == null ? containerValues(name) : List.of(value);
  }

  @Override
  public final Iterable<String> names() {
    return containerNames();
  }

  /** The first value of {@code name} in the container, or null. */
  protected abstract String containerFirst(String name);

  /** The value of {@code name} in the container when it is there exactly once, else null. */
  protected abstract String containerSingle(String name);

  /** Every value of {@code name} in the container. */
  protected abstract List<String> containerValues(String name);

  /** Every header name in the container. */
  protected abstract Iterable<String> containerNames();

  private String get(int slot) {
    return switch (slot) {
      case 0 -> h0;
      case 1 -> h1;
      case 2 -> h2;
      case 3 -> h3;
      case 4 -> h4;
      case 5 -> h5;
      case 6 -> h6;
      default -> h7;
    };
  }

  private void set(int slot, String value) {
    switch (slot) {
      case 0 -> h0 = value;
      case 1 -> h1 = value;
      case 2 -> h2 = value;
      case 3 -> h3 = value;
      case 4 -> h4 = value;
      case 5 -> h5 = value;
      case 6 -> h6 = value;
      default -> h7 = value;
    }
  }
}
