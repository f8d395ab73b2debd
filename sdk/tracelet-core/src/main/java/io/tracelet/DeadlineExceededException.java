package io.tracelet;

/** The context's deadline passed: Go's {@code context.DeadlineExceeded}. */
public final class DeadlineExceededException extends ContextDoneException {

  private static final long serialVersionUID = 1L;

  DeadlineExceededException(Throwable reason) {
    this(reason, false);
  }

  private DeadlineExceededException(Throwable reason, boolean withStackTrace) {
    super("context deadline exceeded", reason, withStackTrace);
  }

  @Override
  ContextDoneException withCallerStackTrace() {
    return new DeadlineExceededException(getCause(), true);
  }
}
