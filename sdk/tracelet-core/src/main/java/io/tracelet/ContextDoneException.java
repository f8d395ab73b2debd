package io.tracelet;

import java.util.concurrent.CancellationException;

/**
 * Why a context is done: either {@link CanceledException} (Go's {@code context.Canceled}) or {@link
 * DeadlineExceededException} (Go's {@code context.DeadlineExceeded}). The underlying reason, such
 * as "client disconnected", is the {@linkplain #getCause() cause} when one was given.
 *
 * <p>It extends {@link CancellationException}, so code that already handles cancelled futures
 * handles it too.
 */
public abstract sealed class ContextDoneException extends CancellationException
    permits CanceledException, DeadlineExceededException {

  private static final long serialVersionUID = 1L;

  private final boolean withStackTrace;

  ContextDoneException(String message, Throwable reason, boolean withStackTrace) {
    super(reason == null ? message : message + ": " + describe(reason));
    this.withStackTrace = withStackTrace;
    if (reason != null) {
      initCause(reason);
    }
    if (withStackTrace) {
      super.fillInStackTrace();
    }
  }

  private static String describe(Throwable reason) {
    String m = reason.getMessage();
    return m == null ? reason.getClass().getSimpleName() : m;
  }

  /**
   * The cause recorded on a context is built once, when the context is cancelled, on whatever
   * thread cancels it (often the timer thread), so its stack trace would say nothing useful: it has
   * none. {@link Cancellation#throwIfCancelled()} throws a copy that does have the caller's stack.
   */
  @Override
  public synchronized Throwable fillInStackTrace() {
    return withStackTrace ? super.fillInStackTrace() : this;
  }

  /** A copy of this cause whose stack trace is the caller's. */
  abstract ContextDoneException withCallerStackTrace();
}
