package io.tracelet.servlet.internal.server;

import io.opentelemetry.api.trace.Span;
import io.opentelemetry.context.Context;
import io.tracelet.CancellableContext;
import io.tracelet.ContextDoneException;
import io.tracelet.DeadlineExceededException;
import io.tracelet.RequestId;
import java.io.IOException;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicIntegerFieldUpdater;

/**
 * One request in flight: its context (span, request ID, cancellation) and what {@link
 * ServerTracing#end} needs to record the outcome. It holds no reference to the handler: whoever
 * owns the request hands it back to {@link ServerTracing#end}, once.
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

  private final CancellableContext cancellable;
  private final Span span;
  // False when the span is an outer instrumentation's: its owner records the outcome and ends it.
  private final boolean ownsSpan;
  private final RequestId requestId;
  private final String semconvMethod;
  private final String mappingRoute;
  // The request's attribute set in HttpServerMetrics and when it started (System.nanoTime()).
  private final int httpKey;
  private final long startNanos;
  private volatile int finished;
  private volatile boolean clientGone;
  private volatile boolean timedOut;
  private volatile Throwable recordedFailure;

  Exchange(
      CancellableContext cancellable,
      Span span,
      boolean ownsSpan,
      RequestId requestId,
      String semconvMethod,
      String mappingRoute,
      int httpKey,
      long startNanos) {
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

  /** Cancels the request context because the client went away. */
  public void clientDisconnected() {
    clientGone = true;
    cancellable.cancel(new IOException("client disconnected"));
  }

  /** An asynchronous request timed out: its context is cancelled with deadline-exceeded. */
  public void asyncTimedOut() {
    timedOut = true;
    cancellable.cancelDeadlineExceeded(new TimeoutException("async request timed out"));
  }

  /** Remembers a failure reported asynchronously, for {@link ServerTracing#end}. */
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

  boolean ownsSpan() {
    return ownsSpan;
  }

  String semconvMethod() {
    return semconvMethod;
  }

  String mappingRoute() {
    return mappingRoute;
  }

  int httpKey() {
    return httpKey;
  }

  long startNanos() {
    return startNanos;
  }

  boolean clientGone() {
    return clientGone;
  }

  boolean timedOut() {
    return timedOut;
  }

  Throwable recordedFailure() {
    return recordedFailure;
  }

  /** Whether this call is the first to finish the exchange. */
  boolean markFinished() {
    return FINISHED.compareAndSet(this, 0, 1);
  }

  void closeContext() {
    cancellable.close();
  }
}
