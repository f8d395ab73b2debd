package io.tracelet;

/** The context was cancelled explicitly (or its parent was): Go's {@code context.Canceled}. */
public final class CanceledException extends ContextDoneException {

  private static final long serialVersionUID = 1L;

  CanceledException(Throwable reason) {
    this(reason, false);
  }

  private CanceledException(Throwable reason, boolean withStackTrace) {
    super("context canceled", reason, withStackTrace);
  }

  @Override
  ContextDoneException withCallerStackTrace() {
    return new CanceledException(getCause(), true);
  }
}
