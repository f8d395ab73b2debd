package io.tracelet.jdbc;

import io.opentelemetry.context.Context;
import io.tracelet.CancellableContext;
import io.tracelet.Cancellation;
import io.tracelet.ContextDoneException;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.sql.SQLException;
import java.sql.SQLTimeoutException;
import java.sql.Statement;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;

/** The behaviour behind {@link JdbcContext#bind}: see there. */
final class ContextStatementHandler implements InvocationHandler {

  private static final Logger logger = Logger.getLogger(ContextStatementHandler.class.getName());
  private static final long NANOS_PER_SECOND = TimeUnit.SECONDS.toNanos(1);

  private final Statement target;
  // A child of the caller's context, owned by this binding: closing it detaches our listener from
  // the caller's context, and cancelDeadlineExceeded() turns a driver timeout into the context's
  // own kind of cause even when the deadline timer has not fired yet.
  private final CancellableContext binding;
  private final Cancellation.Registration cancelListener;
  private volatile int explicitTimeoutSeconds;

  ContextStatementHandler(Statement target, Context context) {
    this.target = target;
    this.binding = CancellableContext.withCancel(context);
    try {
      this.explicitTimeoutSeconds = target.getQueryTimeout();
    } catch (SQLException e) {
      binding.close();
      throw new IllegalArgumentException("cannot read the statement's query timeout", e);
    }
    this.cancelListener = binding.cancellation().onCancel(cause -> cancelStatement());
  }

  private void cancelStatement() {
    try {
      target.cancel();
    } catch (SQLException | RuntimeException e) {
      // The caller still gets the context's cause when its query ends; nothing else to do here.
      logger.log(Level.FINE, "Statement.cancel() failed", e);
    }
  }

  @Override
  public Object invoke(Object proxy, Method method, Object[] args) throws Throwable {
    String name = method.getName();
    if (method.getDeclaringClass() == Object.class) {
      switch (name) {
        case "equals":
          return proxy == args[0];
        case "hashCode":
          return System.identityHashCode(proxy);
        default:
          return "JdbcContext.bind(" + target + ")";
      }
    }
    if (name.equals("setQueryTimeout")) {
      int seconds = (Integer) args[0];
      target.setQueryTimeout(seconds); // lets the driver reject a negative value
      explicitTimeoutSeconds = seconds;
      return null;
    }
    if (name.equals("getQueryTimeout")) {
      return explicitTimeoutSeconds;
    }
    if (name.equals("close")) {
      // Listener first: closing the binding cancels it, which must not cancel the statement.
      cancelListener.close();
      binding.close();
      return call(method, args);
    }
    if (name.startsWith("execute")) {
      return execute(method, args);
    }
    return call(method, args);
  }

  private Object execute(Method method, Object[] args) throws Throwable {
    Cancellation c = binding.cancellation();
    long remaining = c.remainingNanos();
    if (!c.isCancelled() && remaining <= 0) {
      // Passed, but its timer has not fired yet (a busy timer thread, or a test's clock).
      binding.cancelDeadlineExceeded(null);
    }
    c.throwIfCancelled();
    boolean deadlineBound = false;
    if (remaining != Long.MAX_VALUE) {
      int deadlineSeconds = roundUpToSeconds(remaining);
      int explicit = explicitTimeoutSeconds;
      deadlineBound = explicit == 0 || deadlineSeconds <= explicit;
      target.setQueryTimeout(deadlineBound ? deadlineSeconds : explicit);
    }
    try {
      return call(method, args);
    } catch (SQLException | RuntimeException e) {
      if (!c.isCancelled() && deadlineBound && e instanceof SQLTimeoutException) {
        binding.cancelDeadlineExceeded(e);
      }
      if (c.isCancelled()) {
        try {
          c.throwIfCancelled();
        } catch (ContextDoneException done) {
          if (done.getCause() != e) {
            done.addSuppressed(e);
          }
          throw done;
        }
      }
      throw e;
    }
  }

  /** Whole seconds, rounded up, at least 1 (JDBC reads 0 as "no limit"), at most int's range. */
  static int roundUpToSeconds(long nanos) {
    if (nanos <= 0) {
      return 1;
    }
    long seconds = (nanos - 1) / NANOS_PER_SECOND + 1;
    return (int) Math.min(seconds, Integer.MAX_VALUE);
  }

  private Object call(Method method, Object[] args) throws Throwable {
    try {
      return method.invoke(target, args);
    } catch (InvocationTargetException e) {
      throw e.getCause();
    }
  }
}
