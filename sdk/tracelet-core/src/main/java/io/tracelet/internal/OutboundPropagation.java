package io.tracelet.internal;

import io.opentelemetry.context.Context;
import io.opentelemetry.context.ContextKey;
import io.opentelemetry.context.propagation.TextMapPropagator;
import java.util.Objects;

/**
 * The propagator a request's outbound calls inject with, carried in the request's {@link Context}.
 * Not an API: Tracelet's servlet filter stores its outbound propagator (the configured propagators,
 * baggage limited to the {@code baggage-allow-list}) in the request context it builds, and
 * Tracelet's outbound points ({@code ContextHttpClient}) read it, so the filter's policy holds for
 * every call made while handling the request without the application wiring it in.
 *
 * <p>Applications that inject headers themselves use the filter's {@code OutboundPropagator}
 * ({@code TracingFilter.outboundPropagator()}).
 */
public final class OutboundPropagation {

  // Private: read and written only through the methods below. ContextKey compares by identity, so
  // no other library can read or replace the request's propagator by naming a key the same.
  private static final ContextKey<TextMapPropagator> KEY =
      ContextKey.named("tracelet.outbound-propagator");

  private OutboundPropagation() {}

  /** {@code context} with {@code propagator} as the propagator its outbound calls inject with. */
  public static Context storeInContext(Context context, TextMapPropagator propagator) {
    Objects.requireNonNull(context, "context");
    return context.with(KEY, Objects.requireNonNull(propagator, "propagator"));
  }

  /** The propagator stored in {@code context}, or {@code null} when none is. */
  public static TextMapPropagator fromContext(Context context) {
    return context == null ? null : context.get(KEY);
  }
}
