package io.tracelet.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.opentelemetry.context.Context;
import io.opentelemetry.context.Scope;
import io.tracelet.CanceledException;
import io.tracelet.CancellableContext;
import io.tracelet.Deadline;
import io.tracelet.DeadlineExceededException;
import io.tracelet.testsupport.ManualDeadlineClock;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.SQLTimeoutException;
import java.sql.Statement;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class JdbcContextTest {

  /**
   * About 10^10 joined rows: H2 needs minutes for it, checks for cancellation as it goes, and the
   * predicate keeps it from answering the count without scanning.
   */
  static final String LONG_QUERY =
      "SELECT COUNT(*) FROM SYSTEM_RANGE(1, 100000) A CROSS JOIN SYSTEM_RANGE(1, 100000) B"
          + " WHERE MOD(A.X * B.X, 7) = 3";

  private final ManualDeadlineClock clock = new ManualDeadlineClock();
  private Connection connection;
  private Connection observer;

  @BeforeEach
  void openDatabase() throws SQLException {
    String url = "jdbc:h2:mem:jdbc-" + System.nanoTime() + ";DB_CLOSE_DELAY=-1";
    connection = DriverManager.getConnection(url);
    observer = DriverManager.getConnection(url);
    try (Statement s = connection.createStatement()) {
      s.execute("CREATE TABLE ORDERS (ID INT PRIMARY KEY)");
    }
  }

  @AfterEach
  void closeDatabase() throws SQLException {
    try (Statement s = observer.createStatement()) {
      s.execute("SHUTDOWN");
    }
    connection.close();
    observer.close();
    assertThat(Context.current()).isSameAs(Context.root());
  }

  @Test
  void cancellingTheContext_stopsALongQueryInTheDatabase_andCallerSeesTheCause() throws Exception {
    try (CancellableContext ctx = CancellableContext.withCancel(Context.root())) {
      CompletableFuture<Long> query =
          CompletableFuture.supplyAsync(
              () -> {
                try (Statement s = JdbcContext.bind(connection.createStatement(), ctx.context());
                    ResultSet rs = s.executeQuery(LONG_QUERY)) {
                  rs.next();
                  return rs.getLong(1);
                } catch (SQLException e) {
                  throw new IllegalStateException(e);
                }
              });
      awaitRunning("SYSTEM_RANGE");

      long cancelledAt = System.nanoTime();
      ctx.cancel(new IllegalStateException("client went away"));
      Throwable failure = failureOf(query);
      long stoppedAfterMicros = TimeUnit.NANOSECONDS.toMicros(System.nanoTime() - cancelledAt);
      System.out.printf(
          "JDBC cancel latency: the H2 query stopped %.1f ms after the cancel%n",
          stoppedAfterMicros / 1000.0);

      assertThat(failure)
          .isInstanceOf(CanceledException.class)
          .hasMessageContaining("client went away");
      assertThat(failure.getSuppressed()).singleElement().isInstanceOf(SQLException.class);
      // Generous bound (the aim is ~100 ms) so a loaded CI machine does not fail the build.
      assertThat(stoppedAfterMicros).isLessThan(1_000_000);
      assertThat(runningStatements("SYSTEM_RANGE")).isZero();
    }
  }

  @Test
  void queryTimeout_isTheRemainingTimeRoundedUpToWholeSeconds() throws Exception {
    try (CancellableContext ctx = deadlineIn(Duration.ofMillis(2_300));
        Statement raw = connection.createStatement();
        Statement bound = JdbcContext.bind(raw, ctx.context())) {
      bound.executeQuery("SELECT 1").close();
      assertThat(raw.getQueryTimeout()).isEqualTo(3);

      clock.advanceWithoutFiring(Duration.ofMillis(2_000)); // 300 ms left: never 0 ("no limit")
      bound.executeQuery("SELECT 1").close();
      assertThat(raw.getQueryTimeout()).isEqualTo(1);
    }
  }

  @Test
  void shorterExplicitTimeout_wins_andGetQueryTimeoutShowsTheCallersOwn() throws Exception {
    try (CancellableContext ctx = deadlineIn(Duration.ofSeconds(30));
        Statement raw = connection.createStatement();
        Statement bound = JdbcContext.bind(raw, ctx.context())) {
      bound.setQueryTimeout(5);
      bound.executeQuery("SELECT 1").close();
      assertThat(raw.getQueryTimeout()).isEqualTo(5);
      bound.setQueryTimeout(60);
      bound.executeQuery("SELECT 1").close();
      assertThat(raw.getQueryTimeout()).isEqualTo(30);
      assertThat(bound.getQueryTimeout()).isEqualTo(60);
    }
  }

  @Test
  void expiredDeadline_failsWithoutTouchingTheDatabase() throws Exception {
    try (CancellableContext ctx = deadlineIn(Duration.ofMillis(100));
        PreparedStatement bound =
            JdbcContext.bind(
                connection.prepareStatement("INSERT INTO ORDERS VALUES (?)"), ctx.context())) {
      bound.setInt(1, 1);
      clock.advanceWithoutFiring(Duration.ofMillis(100)); // passed; no timer has fired yet
      assertThatThrownBy(bound::executeUpdate).isInstanceOf(DeadlineExceededException.class);
    }
    assertThat(count("ORDERS")).isZero();
  }

  @Test
  void cancelledContext_failsWithoutTouchingTheDatabase() throws Exception {
    try (CancellableContext ctx = CancellableContext.withCancel(Context.root())) {
      ctx.cancel();
      try (Scope scope = ctx.makeCurrent();
          Statement bound = JdbcContext.bind(connection.createStatement())) {
        assertThatThrownBy(() -> bound.executeUpdate("INSERT INTO ORDERS VALUES (1)"))
            .isInstanceOf(CanceledException.class);
      }
    }
    assertThat(count("ORDERS")).isZero();
  }

  @Test
  void databaseTimeoutSetFromTheDeadline_isReportedAsDeadlineExceeded() throws Exception {
    // 400 ms on the test clock, which never moves: the context's timer stays silent, so only the
    // database's 1 s query timeout (rounded up) can stop the query.
    try (CancellableContext ctx = deadlineIn(Duration.ofMillis(400));
        Statement bound = JdbcContext.bind(connection.createStatement(), ctx.context())) {
      assertThatThrownBy(() -> bound.executeQuery(LONG_QUERY))
          .isInstanceOf(DeadlineExceededException.class)
          .hasCauseInstanceOf(SQLTimeoutException.class);
      assertThat(ctx.cancellation().isCancelled()).isFalse();
    }
  }

  @Test
  void closingTheStatement_removesTheListener() throws Exception {
    AtomicInteger cancels = new AtomicInteger();
    try (CancellableContext ctx = CancellableContext.withCancel(Context.root())) {
      Statement recording = countingCancels(connection.createStatement(), cancels);
      try (Statement bound = JdbcContext.bind(recording, ctx.context())) {
        bound.executeQuery("SELECT 1").close();
      }
      ctx.cancel();
    }
    assertThat(cancels).hasValue(0);
  }

  @Test
  void contextWithoutDeadline_leavesTheTimeoutAlone() throws Exception {
    try (Statement raw = connection.createStatement();
        Statement bound = JdbcContext.bind(raw, Context.root())) {
      try (ResultSet rs = bound.executeQuery("SELECT 42")) {
        rs.next();
        assertThat(rs.getInt(1)).isEqualTo(42);
      }
      assertThat(raw.getQueryTimeout()).isZero();
    }
  }

  @Test
  void roundUpToSeconds_neverGivesZero_andDoesNotOverflow() {
    assertThat(ContextStatementHandler.roundUpToSeconds(1)).isEqualTo(1);
    assertThat(ContextStatementHandler.roundUpToSeconds(1_000_000_000L)).isEqualTo(1);
    assertThat(ContextStatementHandler.roundUpToSeconds(1_000_000_001L)).isEqualTo(2);
    assertThat(ContextStatementHandler.roundUpToSeconds(Long.MAX_VALUE - 1))
        .isEqualTo(Integer.MAX_VALUE);
  }

  private CancellableContext deadlineIn(Duration d) {
    return CancellableContext.withDeadline(Context.root(), Deadline.after(d, clock));
  }

  private static Throwable failureOf(CompletableFuture<?> f) throws InterruptedException {
    try {
      f.get(30, TimeUnit.SECONDS);
      throw new AssertionError("the query was expected to fail");
    } catch (ExecutionException e) {
      Throwable t = e.getCause();
      return t instanceof IllegalStateException && t.getCause() instanceof SQLException
          ? t.getCause()
          : t;
    } catch (java.util.concurrent.TimeoutException e) {
      throw new AssertionError("the query did not stop", e);
    }
  }

  /** Waits (bounded) until H2 reports a statement containing {@code marker} as executing. */
  private void awaitRunning(String marker) throws Exception {
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (runningStatements(marker) == 0) {
      if (System.nanoTime() > end) {
        throw new AssertionError("the query never started");
      }
      Thread.onSpinWait();
    }
  }

  private int runningStatements(String marker) throws SQLException {
    try (PreparedStatement ps =
        observer.prepareStatement(
            "SELECT COUNT(*) FROM INFORMATION_SCHEMA.SESSIONS"
                + " WHERE EXECUTING_STATEMENT LIKE ? AND SESSION_ID <> SESSION_ID()")) {
      ps.setString(1, "%" + marker + "%");
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getInt(1);
      }
    }
  }

  private int count(String table) throws SQLException {
    try (Statement s = observer.createStatement();
        ResultSet rs = s.executeQuery("SELECT COUNT(*) FROM " + table)) {
      rs.next();
      return rs.getInt(1);
    }
  }

  /** The driver's statement, counting calls to cancel(); everything else passes through. */
  private static Statement countingCancels(Statement real, AtomicInteger cancels) {
    return (Statement)
        Proxy.newProxyInstance(
            Statement.class.getClassLoader(),
            new Class<?>[] {Statement.class},
            (p, m, a) -> {
              if (m.getName().equals("cancel")) {
                cancels.incrementAndGet();
              }
              try {
                return m.invoke(real, a);
              } catch (InvocationTargetException e) {
                throw e.getCause();
              }
            });
  }
}
