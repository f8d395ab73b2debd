package io.tracelet.jdbc;

import io.opentelemetry.context.Context;
import java.lang.reflect.Proxy;
import java.sql.CallableStatement;
import java.sql.PreparedStatement;
import java.sql.Statement;
import java.util.Objects;

/**
 * Binds JDBC statements to a context, so the database stops a query when nobody waits for it any
 * more: Go's {@code QueryContext}.
 *
 * <pre>{@code
 * try (PreparedStatement ps = JdbcContext.bind(connection.prepareStatement(sql))) {
 *   ps.setLong(1, orderId);
 *   try (ResultSet rs = ps.executeQuery()) { // bounded by the current context's deadline
 *     ...
 *   }
 * }
 * }</pre>
 *
 * <p>The returned statement delegates everything to the given one, and in addition:
 *
 * <ul>
 *   <li>Before each {@code execute*} call it sets the query timeout to the context's remaining time
 *       (or the statement's own timeout, if that is shorter). JDBC counts whole seconds and reads
 *       {@code 0} as "no limit", so the remaining time is rounded <em>up</em>, to at least one
 *       second: the database may run up to a second past the deadline, but never unbounded. The
 *       context's own deadline timer, which cancels the statement on time, covers that second.
 *   <li>A call made when the context is already done, or its deadline has passed, throws the
 *       context's cause without reaching the database.
 *   <li>When the context is cancelled, {@link Statement#cancel()} is called, so the database stops
 *       the query rather than only the caller waiting for it. It runs on the thread that cancels
 *       the context (for a deadline, the shared timer thread), so it should be a quick call, as it
 *       is for H2 and most drivers.
 *   <li>A failure of an {@code execute*} call while the context is done is reported as the
 *       context's cause (a {@link io.tracelet.ContextDoneException}) with the driver's {@link
 *       java.sql.SQLException} as a suppressed exception; a {@link java.sql.SQLTimeoutException}
 *       from a timeout the deadline set becomes a {@link io.tracelet.DeadlineExceededException}
 *       whose cause is the driver's exception.
 *   <li>Closing the statement removes the cancellation listener.
 * </ul>
 *
 * <p>{@code setQueryTimeout}/{@code getQueryTimeout} on the returned statement set and read the
 * caller's own limit; the effective one is applied at each execution. A {@link java.sql.ResultSet}
 * read after {@code executeQuery} returned is not covered by the timeout, but by the cancellation.
 */
public final class JdbcContext {

  private JdbcContext() {}

  /** Binds {@code statement} to the current context. */
  public static Statement bind(Statement statement) {
    return bind(statement, Context.current());
  }

  /** Binds {@code statement} to {@code context}. */
  public static Statement bind(Statement statement, Context context) {
    return proxy(Statement.class, statement, context);
  }

  /** Binds {@code statement} to the current context. */
  public static PreparedStatement bind(PreparedStatement statement) {
    return bind(statement, Context.current());
  }

  /** Binds {@code statement} to {@code context}. */
  public static PreparedStatement bind(PreparedStatement statement, Context context) {
    return proxy(PreparedStatement.class, statement, context);
  }

  /** Binds {@code statement} to the current context. */
  public static CallableStatement bind(CallableStatement statement) {
    return bind(statement, Context.current());
  }

  /** Binds {@code statement} to {@code context}. */
  public static CallableStatement bind(CallableStatement statement, Context context) {
    return proxy(CallableStatement.class, statement, context);
  }

  private static <S extends Statement> S proxy(Class<S> type, S statement, Context context) {
    Objects.requireNonNull(statement, "statement");
    Objects.requireNonNull(context, "context");
    if (Proxy.isProxyClass(statement.getClass())
        && Proxy.getInvocationHandler(statement) instanceof ContextStatementHandler) {
      throw new IllegalArgumentException(
          "statement is already bound to a context; bind the driver's statement only once");
    }
    ContextStatementHandler handler = new ContextStatementHandler(statement, context);
    return type.cast(Proxy.newProxyInstance(type.getClassLoader(), new Class<?>[] {type}, handler));
  }
}
