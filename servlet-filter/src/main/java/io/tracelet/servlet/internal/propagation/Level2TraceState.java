package io.tracelet.servlet.internal.propagation;

import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.TraceState;
import io.opentelemetry.api.trace.TraceStateBuilder;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.BiConsumer;

/**
 * A {@code tracestate} kept with the key grammar of W3C Trace Context Level 2, which OpenTelemetry
 * Java (1.68) does not read yet: its W3C propagator checks every key against the Level 1 grammar
 * and drops the whole {@code tracestate} when one fails (a key starting with a digit such as {@code
 * 1foo}, {@code foo@}, {@code foo@bar@baz}, a tenant longer than 241 or a system ID longer than 14
 * characters). {@code TraceState} is an interface, so this is our own immutable implementation of
 * it, built from the header {@link TraceStateCodec#normalize} validated with the Level 2 rules; the
 * SDK copies the parent's trace state into the server span, and the W3C propagator writes it out
 * again through {@link #forEach}. Written by us because the library is measurably wrong here
 * ({@code HostileInputTest} pins each key); remove it once OpenTelemetry reads Level 2 keys.
 */
public final class Level2TraceState implements TraceState {

  // Keys and values alternating, in header order (the leftmost member is the most recent).
  private final String[] members;

  private Level2TraceState(String[] members) {
    this.members = members;
  }

  /**
   * {@code incoming} with its trace state restored from the request's {@code tracestate} headers
   * when OpenTelemetry's W3C propagator dropped it only for Level 2 keys; {@code incoming} itself
   * when there is nothing to restore (no header, a trace state kept, a parent that did not come
   * from this request's {@code traceparent}, or a list invalid under Level 2 as well).
   */
  public static SpanContext restore(SpanContext incoming, HeaderSource headers) {
    if (!incoming.isValid() || !incoming.getTraceState().isEmpty()) {
      return incoming;
    }
    String traceparent = headers.first("traceparent");
    if (traceparent == null
        || headers.first("tracestate") == null
        || !isParentOf(TraceStateCodec.trimOws(traceparent), incoming)) {
      return incoming;
    }
    String normal = TraceStateCodec.normalize(headers.values("tracestate"));
    if (normal == null) {
      return incoming;
    }
    String[] parts = normal.split(",");
    String[] members = new String[parts.length * 2];
    for (int i = 0; i < parts.length; i++) {
      int eq = parts[i].indexOf('=');
      members[2 * i] = parts[i].substring(0, eq);
      members[2 * i + 1] = parts[i].substring(eq + 1);
    }
    return SpanContext.createFromRemoteParent(
        incoming.getTraceId(),
        incoming.getSpanId(),
        incoming.getTraceFlags(),
        new Level2TraceState(members));
  }

  /**
   * Whether {@code traceparent} names {@code parent}: its trace-id and parent-id fields (at the
   * same offsets in every version) are the parent's, so the tracestate beside it is this parent's
   * and not that of a context another propagator (B3, Jaeger) extracted.
   */
  private static boolean isParentOf(String traceparent, SpanContext parent) {
    return traceparent.length() >= 55
        && traceparent.charAt(2) == '-'
        && traceparent.charAt(35) == '-'
        && traceparent.regionMatches(3, parent.getTraceId(), 0, 32)
        && traceparent.regionMatches(36, parent.getSpanId(), 0, 16);
  }

  @Override
  public String get(String key) {
    for (int i = 0; i < members.length; i += 2) {
      if (members[i].equals(key)) {
        return members[i + 1];
      }
    }
    return null;
  }

  @Override
  public int size() {
    return members.length / 2;
  }

  @Override
  public boolean isEmpty() {
    return members.length == 0;
  }

  @Override
  public void forEach(BiConsumer<String, String> consumer) {
    for (int i = 0; i < members.length; i += 2) {
      consumer.accept(members[i], members[i + 1]);
    }
  }

  @Override
  public Map<String, String> asMap() {
    Map<String, String> map = new LinkedHashMap<>();
    forEach(map::put);
    return Collections.unmodifiableMap(map);
  }

  /**
   * OpenTelemetry's own builder, holding these members: a sampler that edits the trace state gets
   * OpenTelemetry's rules back, so the members it cannot hold (the Level 2 keys) are left out
   * there.
   */
  @Override
  public TraceStateBuilder toBuilder() {
    TraceStateBuilder builder = TraceState.builder();
    // put() adds to the front: from the oldest (rightmost) member to the most recent.
    for (int i = members.length - 2; i >= 0; i -= 2) {
      builder.put(members[i], members[i + 1]);
    }
    return builder;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Level2TraceState other && Arrays.equals(members, other.members);
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(members);
  }

  @Override
  public String toString() {
    return "Level2TraceState" + asMap();
  }
}
