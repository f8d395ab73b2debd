package io.tracelet.trace;

import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.Scope;
import io.tracelet.Cancellation;
import io.tracelet.ContextDoneException;
import io.tracelet.DeadlineExceededException;

/**
 * A started span that is current until {@link #close()}: Go's {@code ctx, finish := StartSpan(ctx,
 * name); defer finish()} as try-with-resources.
 *
 * <pre>{@code
 * try (SpanScope s = spans.start("validateOrder")) {
 *   validate(order);
 * } // the span ends here and the previous context is current again
 * }</pre>
 *
 * <p>Close it on the thread that started it, like any OpenTelemetry {@link Scope}. Closing twice is
 * harmless: the span ends exactly once.
 */
public final class SpanScope implements AutoCloseable {

  /** Set to {@code true} on a span that ended while its context was cancelled. */
  public static final AttributeKey<Boolean> CANCELLED =
      AttributeKey.booleanKey("tracelet.cancelled");

  /**
   * Why the context was done when the span ended: {@code canceled} or {@code deadline_exceeded}.
   */
  public static final AttributeKey<String> CANCEL_CAUSE =
      AttributeKey.stringKey("tracelet.cancel.cause");

  /** The class of the underlying reason for the cancellation, when one was given. */
  public static final AttributeKey<String> CANCEL_REASON =
      AttributeKey.stringKey("tracelet.cancel.reason");

  // Four fields, no more: this object is the only allocation the helper adds to raw OpenTelemetry.
  private final Span span;
  private final Context context;
  private final Scope scope;
  private boolean closed;

  SpanScope(Span span, Context context, Scope scope) {
    this.span = span;
    this.context = context;
    this.scope = scope;
  }

  /** The span; use it to add attributes or events. */
  public Span span() {
    return span;
  }

  /** The context holding the span, e.g. to hand to another thread. */
  public Context context() {
    return context;
  }

  /**
   * Marks the span as failed: records {@code failure} as an exception event and sets the status to
   * {@link StatusCode#ERROR}. The caller still decides whether to rethrow.
   */
  public void recordFailure(Throwable failure) {
    span.recordException(failure);
    span.setStatus(StatusCode.ERROR, failure.getClass().getName());
  }

  /**
   * Restores the previous context and ends the span, exactly once. If the span's context is
   * cancelled or past its deadline by then, the span gets {@link #CANCELLED}, {@link #CANCEL_CAUSE}
   * and a {@code tracelet.cancelled} event with the cause (and {@link #CANCEL_REASON}); that alone
   * does not make it an error.
   */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    try {
      scope.close();
    } finally {
      Cancellation cancellation = Cancellation.fromContext(context);
      if (cancellation.isCancelled()) {
        markCancelled(cancellation.cause());
      } else if (cancellation.hasDeadline() && cancellation.remainingNanos() <= 0) {
        // The deadline passed but the timer thread has not fired yet: report what is true now.
        markCancelled(null);
      }
      span.end();
    }
  }

  // Off the hot path: only spans that end in a cancelled context get here.
  private void markCancelled(ContextDoneException cause) {
    String kind =
        cause == null || cause instanceof DeadlineExceededException
            ? "deadline_exceeded"
            : "canceled";
    span.setAttribute(CANCELLED, true);
    span.setAttribute(CANCEL_CAUSE, kind);
    Throwable reason = cause == null ? null : cause.getCause();
    Attributes attributes =
        reason == null
            ? Attributes.of(CANCEL_CAUSE, kind)
            : Attributes.of(CANCEL_CAUSE, kind, CANCEL_REASON, reason.getClass().getName());
    span.addEvent("tracelet.cancelled", attributes);
  }
}
