package io.tracelet.servlet;

import io.opentelemetry.api.baggage.Baggage;
import io.opentelemetry.api.baggage.BaggageBuilder;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.propagation.TextMapGetter;
import io.opentelemetry.context.propagation.TextMapPropagator;
import io.opentelemetry.context.propagation.TextMapSetter;
import io.tracelet.servlet.internal.propagation.IncomingGetter;
import io.tracelet.servlet.internal.propagation.IsolatedPropagator;
import io.tracelet.servlet.internal.propagation.TraceStateCodec;
import java.util.Collection;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * Wraps a propagator for outbound calls: only baggage whose key is on the allow-list is sent, and
 * {@code tracestate} is bounded to 512 characters by dropping whole entries (W3C Trace Context
 * Level 2). Incoming baggage stays readable in the request context; it just does not leak onward. A
 * propagator that throws while injecting (a {@code RuntimeException} or {@code StackOverflowError})
 * is skipped and the others still inject, so an outbound call never fails because of it; other
 * {@code Error}s are rethrown.
 *
 * <p>The filter keeps its own in every request context, and Tracelet's {@code ContextHttpClient}
 * injects with it inside the request (unless the client was built with a propagator of its own).
 * Other clients are given it explicitly:
 *
 * <pre>{@code
 * TextMapPropagator outbound = OutboundPropagator.wrap(
 *     openTelemetry.getPropagators().getTextMapPropagator(), List.of("tenant"));
 * outbound.inject(Context.current(), httpRequestBuilder, (b, k, v) -> b.header(k, v));
 * }</pre>
 */
public final class OutboundPropagator implements TextMapPropagator {

  private final TextMapPropagator delegate;
  private final Set<String> baggageAllowList;

  private OutboundPropagator(TextMapPropagator delegate, Set<String> baggageAllowList) {
    this.delegate = delegate;
    this.baggageAllowList = baggageAllowList;
  }

  /**
   * A propagator that injects like {@code delegate} but forwards only the allowed baggage keys and
   * a bounded tracestate.
   */
  public static OutboundPropagator wrap(
      TextMapPropagator delegate, Collection<String> baggageAllowList) {
    // Isolated so a propagator that throws while injecting never fails the outbound call; the
    // filter's own propagator is already isolated (and counted), anything else is wrapped here.
    return new OutboundPropagator(
        IsolatedPropagator.wrap(
            Objects.requireNonNull(delegate, "delegate"), IsolatedPropagator.FailureCounter.NONE),
        Set.copyOf(baggageAllowList));
  }

  @Override
  public Collection<String> fields() {
    return delegate.fields();
  }

  @Override
  public <C> void inject(Context context, C carrier, TextMapSetter<C> setter) {
    if (context == null || setter == null) {
      return;
    }
    Context filtered = context;
    Baggage baggage = Baggage.fromContextOrNull(context);
    if (baggage != null && !baggage.isEmpty()) {
      BaggageBuilder allowed = Baggage.builder();
      baggage.forEach(
          (key, entry) -> {
            if (baggageAllowList.contains(key)) {
              allowed.put(key, entry.getValue(), entry.getMetadata());
            }
          });
      filtered = context.with(allowed.build());
    }
    delegate.inject(
        filtered,
        carrier,
        (c, key, value) -> {
          // Propagators write what the context holds: Jaeger's and OT's send baggage raw
          // (uberctx-<key>: <value>), and a baggage value may hold a CR/LF (W3C baggage decodes
          // %0D%0A). A header that is not a token name with a printable ASCII value (spaces
          // allowed) is dropped,
          // never repaired, so nothing incoming can add a line to an outbound request.
          if (key == null || value == null || !IncomingGetter.isToken(key) || !isSafeValue(value)) {
            return;
          }
          if ("baggage".equalsIgnoreCase(key)) {
            value = boundBaggage(value);
            if (value == null) {
              return;
            }
          }
          if ("tracestate".equalsIgnoreCase(key)) {
            value = TraceStateCodec.truncate(value);
            if (value == null) {
              return;
            }
          }
          setter.set(c, key, value);
        });
  }

  /**
   * The baggage header within the W3C limits a receiver enforces (64 members, 8192 bytes), keeping
   * whole members in order. The application may add baggage beyond what came in, and a receiver
   * that applies the limits, as this filter does, drops an oversize header whole.
   */
  static String boundBaggage(String header) {
    if (header.length() <= IncomingGetter.MAX_BAGGAGE_BYTES
        && header.chars().filter(c -> c == ',').count() < IncomingGetter.MAX_BAGGAGE_MEMBERS) {
      return header;
    }
    StringBuilder sb = new StringBuilder();
    int members = 0;
    for (String member : header.split(",")) {
      int length = sb.length() + (members == 0 ? 0 : 1) + member.length();
      if (members == IncomingGetter.MAX_BAGGAGE_MEMBERS
          || length > IncomingGetter.MAX_BAGGAGE_BYTES) {
        break;
      }
      if (members > 0) {
        sb.append(',');
      }
      sb.append(member);
      members++;
    }
    return members == 0 ? null : sb.toString();
  }

  /**
   * Printable ASCII, space and TAB (HTTP allows a TAB in a value, and W3C baggage metadata is sent
   * raw, so it may hold one): no CR, LF, other control or non-ASCII character.
   */
  private static boolean isSafeValue(String v) {
    for (int i = 0; i < v.length(); i++) {
      char c = v.charAt(i);
      if ((c < 0x20 && c != '\t') || c > 0x7e) {
        return false;
      }
    }
    return true;
  }

  @Override
  public <C> Context extract(Context context, C carrier, TextMapGetter<C> getter) {
    return delegate.extract(context, carrier, getter);
  }

  /** The allowed baggage keys. */
  public List<String> baggageAllowList() {
    return List.copyOf(baggageAllowList);
  }

  @Override
  public String toString() {
    return "OutboundPropagator{" + delegate + ", allow=" + baggageAllowList + "}";
  }
}
