package io.tracelet;

/** The context was cancelled explicitly (or its parent was): Go's {@code context.Canceled}. */
public final class CanceledException extends ContextDoneException {

  private static final long serialVersionUID = 1L;

  /**
   * The cause of a context that was closed normally (its request finished) rather than cancelled
   * for a reason. One shared instance, as Go's {@code context.Canceled} is one shared value: a
   * context is closed once per request, and this cause has no reason and no stack trace to differ
   * by, so allocating one each time would only cost memory. {@link #withCallerStackTrace()} still
   * gives a thrower its own copy.
   */
  static final CanceledException CLOSED = new CanceledException(null);

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
