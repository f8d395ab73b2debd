package io.tracelet.servlet.internal;

import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.context.Context;
import io.opentelemetry.semconv.ErrorAttributes;
import io.opentelemetry.semconv.HttpAttributes;
import io.tracelet.CancellableContext;
import io.tracelet.ContextDoneException;
import io.tracelet.DeadlineExceededException;
import io.tracelet.RequestId;
import java.io.IOException;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicIntegerFieldUpdater;

/**
 * One request in flight: its context (span, request ID, cancellation), the headers to write, and
 * the outcome, recorded once by {@link #finish}.
 */
public final class Exchange {

  /** How a failure that escaped the application is to be answered. */
  public enum FailureKind {
    /** Not ours: record it and rethrow it unchanged. */
    APPLICATION,
    /** The request's deadline passed: answer 504 if nothing is committed yet. */
    DEADLINE_EXCEEDED,
    /** The client left: nobody is waiting for an answer; log it, do not report an error. */
    CLIENT_GONE
  }

  private static final int MAX_CAUSE_DEPTH = 16;

  private static final AtomicIntegerFieldUpdater<Exchange> FINISHED =
      AtomicIntegerFieldUpdater.newUpdater(Exchange.class, "finished");

  private final ServerTracing core;
  private final CancellableContext cancellable;
  private final Span span;
  // False when the span is an outer instrumentation's: its owner records the outcome and ends it.
  private final boolean ownsSpan;
  private final RequestId requestId;
  private final String semconvMethod;
  private final String mappingRoute;
  private final int httpKey;
  private final long startNanos;
  private volatile int finished;
  private volatile boolean clientGone;
  private volatile boolean timedOut;
  private volatile Throwable recordedFailure;
  private volatile AutoCloseable watch;

  Exchange(
      ServerTracing core,
      CancellableContext cancellable,
      Span span,
      boolean ownsSpan,
      RequestId requestId,
      String semconvMethod,
      String mappingRoute,
      int httpKey,
      long startNanos) {
    this.core = core;
    this.cancellable = cancellable;
    this.span = span;
    this.ownsSpan = ownsSpan;
    this.requestId = requestId;
    this.semconvMethod = semconvMethod;
    this.mappingRoute = mappingRoute;
    this.httpKey = httpKey;
    this.startNanos = startNanos;
  }

  /** The request context: make it current around the application. */
  public Context context() {
    return cancellable.context();
  }

  /** The request ID in use. */
  public RequestId requestId() {
    return requestId;
  }

  /** The server span (an outer instrumentation's when joined); invalid on excluded paths. */
  public Span span() {
    return span;
  }

  /** Writes the response headers (set them before the application runs) to {@code out}. */
  public void writeResponseHeaders(HeaderSink out) {
    core.writeResponseHeaders(requestId, span, out);
  }

  /**
   * The response headers as a list, for inspection; the filter uses {@link #writeResponseHeaders}.
   */
  public ResponseHeaders responseHeaders() {
    ResponseHeaders out = new ResponseHeaders();
    writeResponseHeaders(out);
    return out;
  }

  /** Whether {@link #finish} has run. */
  public boolean isFinished() {
    return finished != 0;
  }

  /** Keeps {@code watch} to close when the request finishes. */
  public void setWatch(AutoCloseable watch) {
    this.watch = watch;
  }

  /** Cancels the request context because the client went away. */
  public void clientDisconnected() {
    clientGone = true;
    cancellable.cancel(new IOException("client disconnected"));
  }

  /** Whether the client went away. */
  public boolean isClientGone() {
    return clientGone;
  }

  /** An asynchronous request timed out: its context is cancelled with deadline-exceeded. */
  public void asyncTimedOut() {
    timedOut = true;
    cancellable.cancelDeadlineExceeded(new TimeoutException("async request timed out"));
  }

  /** Remembers a failure reported asynchronously, for {@link #finish}. */
  public void recordFailure(Throwable failure) {
    if (failure != null && recordedFailure == null) {
      recordedFailure = failure;
    }
  }

  /** Classifies a failure that escaped the application. */
  public FailureKind classify(Throwable failure) {
    ContextDoneException done = findDone(failure);
    if (clientGone && (done != null || failure instanceof IOException)) {
      return FailureKind.CLIENT_GONE;
    }
    if (done instanceof DeadlineExceededException
        || (done != null
            && cancellable.cancellation().cause() instanceof DeadlineExceededException)) {
      return FailureKind.DEADLINE_EXCEEDED;
    }
    return FailureKind.APPLICATION;
  }

  private static ContextDoneException findDone(Throwable t) {
    for (int i = 0; t != null && i < MAX_CAUSE_DEPTH; i++) {
      if (t instanceof ContextDoneException) {
        return (ContextDoneException) t;
      }
      t = t.getCause();
    }
    return null;
  }

  /**
   * Records the outcome, ends the span and closes the request context; only the first call does
   * anything.
   *
   * @param status the response status
   * @param failure what escaped the application, or null
   * @param committed whether the response was committed (a later 500 from the container is then
   *     impossible)
   * @param appRoute the route set by the application, or null
   * @return whether this call finished the exchange
   */
  public boolean finish(int status, Throwable failure, boolean committed, String appRoute) {
    if (!FINISHED.compareAndSet(this, 0, 1)) {
      return false;
    }
    try {
      closeWatch();
      Throwable f = failure == null ? recordedFailure : failure;
      core.httpMetrics()
          .requestEnded(
              httpKey,
              startNanos,
              status,
              f,
              f == null ? null : classify(f),
              committed,
              timedOut,
              clientGone,
              appRoute,
              mappingRoute);
      if (ownsSpan && span.getSpanContext().isValid()) {
        record(status, failure == null ? recordedFailure : failure, committed, appRoute);
      }
    } finally {
      try {
        if (ownsSpan) {
          span.end();
        }
      } catch (RuntimeException e) {
        // The SDK runs span processors' onEnd on this thread, so a broken processor throws here.
        // The answer is on its way regardless, and the request context must still be closed.
        core.spanEndFailed(e);
      } finally {
        cancellable.close();
      }
    }
    return true;
  }

  private void record(int status, Throwable failure, boolean committed, String appRoute) {
    if (appRoute != null && !appRoute.equals(mappingRoute)) {
      String route = core.admitRoute(appRoute);
      if (route != null) {
        span.updateName(core.spanName(semconvMethod, route));
        span.setAttribute(HttpAttributes.HTTP_ROUTE, route);
      }
    }
    int effective = status;
    // A client that leaves is not a server error, so the failure it causes (the cancellation, or an
    // IOException writing to a closed socket) is not recorded as one. An explicit 5xx status, or an
    // unrelated failure, still is: the client may also leave right after reading a complete 500.
    boolean causedByClient = failure != null && classify(failure) == FailureKind.CLIENT_GONE;
    if (clientGone) {
      span.addEvent("client disconnected");
    }
    if (failure != null && !causedByClient) {
      span.recordException(failure);
      span.setAttribute(ErrorAttributes.ERROR_TYPE, failure.getClass().getName());
      span.setStatus(StatusCode.ERROR);
      if (!committed && status < 500) {
        // The container answers an escaped exception with 500.
        effective = 500;
      }
    }
    if (effective > 0) {
      span.setAttribute(
          HttpAttributes.HTTP_RESPONSE_STATUS_CODE, ServerTracing.statusCode(effective));
    }
    if (effective >= 500 && !causedByClient) {
      span.setStatus(StatusCode.ERROR);
      if (failure == null) {
        span.setAttribute(
            ErrorAttributes.ERROR_TYPE, timedOut ? "timeout" : Integer.toString(effective));
      }
    }
  }

  private void closeWatch() {
    AutoCloseable w = watch;
    if (w != null) {
      try {
        w.close();
      } catch (Exception e) {
        // A detector that fails to clean up must not break the request's completion.
        org.slf4j.LoggerFactory.getLogger(Exchange.class).debug("disconnect watch close failed", e);
      }
    }
  }
}
