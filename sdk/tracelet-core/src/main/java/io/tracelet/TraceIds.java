package io.tracelet;

import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.context.Context;

/**
 * The trace and span IDs of a context's span, as lowercase hex, or the empty string when there is
 * no valid span. Never throws.
 */
public final class TraceIds {

  private TraceIds() {}

  /** The current span's trace ID (32 hex characters), or {@code ""}. */
  public static String traceId() {
    return traceId(Context.current());
  }

  /** The current span's span ID (16 hex characters), or {@code ""}. */
  public static String spanId() {
    return spanId(Context.current());
  }

  /** The trace ID of the span in {@code context}, or {@code ""}. */
  public static String traceId(Context context) {
    SpanContext sc = Span.fromContext(context).getSpanContext();
    return sc.isValid() ? sc.getTraceId() : "";
  }

  /** The span ID of the span in {@code context}, or {@code ""}. */
  public static String spanId(Context context) {
    SpanContext sc = Span.fromContext(context).getSpanContext();
    return sc.isValid() ? sc.getSpanId() : "";
  }
}
