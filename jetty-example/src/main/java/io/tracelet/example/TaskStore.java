package io.tracelet.example;

import io.tracelet.jdbc.JdbcContext;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The example's store: tasks and orders in an embedded H2 database. Every statement is bound to the
 * current context with {@link JdbcContext#bind}, so a request's deadline or cancellation stops the
 * query in the database.
 */
public final class TaskStore implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(TaskStore.class);

  /** A task row. */
  record Task(long id, String title) {}

  /** Marks the slow query, so tests can look for it among the running statements. */
  static final String SLOW_MARKER = "SYSTEM_RANGE";

  private static final int INNER_ROWS = 1_000;

  private final String url;
  private final long slowOuterRows;

  private TaskStore(String url, long slowOuterRows) {
    this.url = url;
    this.slowOuterRows = slowOuterRows;
  }

  /**
   * Opens the database at {@code url}, creates the schema with one sample task, and calibrates the
   * slow query to take about {@code slowQueryTime} on this machine.
   */
  public static TaskStore open(String url, Duration slowQueryTime) throws SQLException {
    TaskStore store = new TaskStore(url, 0);
    try (Connection c = store.connect();
        Statement s = c.createStatement()) {
      s.execute("CREATE TABLE IF NOT EXISTS TASKS (ID BIGINT PRIMARY KEY, TITLE VARCHAR(200))");
      s.execute("MERGE INTO TASKS KEY (ID) VALUES (1, 'Sample task')");
      s.execute(
          "CREATE TABLE IF NOT EXISTS ORDERS (ID BIGINT AUTO_INCREMENT PRIMARY KEY,"
              + " ITEM VARCHAR(200), AMOUNT_CENTS BIGINT, PAYMENT_ID VARCHAR(100))");
    }
    return new TaskStore(url, calibrate(store, slowQueryTime));
  }

  /**
   * Finds a task with the slow query: a real join over generated rows that H2 computes row by row
   * (and checks for cancellation as it goes), standing in for a heavy report query.
   */
  Optional<Task> findTaskSlowly(long id) throws SQLException {
    try (Connection c = connect();
        PreparedStatement ps =
            JdbcContext.bind(
                c.prepareStatement(
                    "SELECT T.ID, T.TITLE FROM TASKS T WHERE T.ID = ? AND ("
                        + slowCount()
                        + ") >= 0"))) {
      ps.setLong(1, id);
      ps.setLong(2, slowOuterRows);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() ? Optional.of(new Task(rs.getLong(1), rs.getString(2))) : Optional.empty();
      }
    }
  }

  /** Inserts an order and returns its ID. */
  long insertOrder(String item, long amountCents, String paymentId) throws SQLException {
    try (Connection c = connect();
        PreparedStatement ps =
            JdbcContext.bind(
                c.prepareStatement(
                    "INSERT INTO ORDERS (ITEM, AMOUNT_CENTS, PAYMENT_ID) VALUES (?, ?, ?)",
                    Statement.RETURN_GENERATED_KEYS))) {
      ps.setString(1, item);
      ps.setLong(2, amountCents);
      ps.setString(3, paymentId);
      ps.executeUpdate();
      try (ResultSet keys = ps.getGeneratedKeys()) {
        keys.next();
        return keys.getLong(1);
      }
    }
  }

  /** How many sessions are running the slow query right now (to check that a cancel stopped it). */
  int runningSlowQueries() throws SQLException {
    try (Connection c = connect();
        PreparedStatement ps =
            c.prepareStatement(
                "SELECT COUNT(*) FROM INFORMATION_SCHEMA.SESSIONS"
                    + " WHERE EXECUTING_STATEMENT LIKE ? AND SESSION_ID <> SESSION_ID()")) {
      ps.setString(1, "%" + SLOW_MARKER + "%");
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getInt(1);
      }
    }
  }

  /** Closes the in-memory database. */
  @Override
  public void close() {
    try (Connection c = connect();
        Statement s = c.createStatement()) {
      s.execute("SHUTDOWN");
    } catch (SQLException e) {
      // Already shut down: nothing left to release.
    }
  }

  private Connection connect() throws SQLException {
    return DriverManager.getConnection(url);
  }

  private static String slowCount() {
    // The predicate keeps H2 from answering COUNT(*) of a cross join without scanning it.
    return "SELECT COUNT(*) FROM SYSTEM_RANGE(1, ?) A CROSS JOIN SYSTEM_RANGE(1, "
        + INNER_ROWS
        + ") B WHERE MOD(A.X * B.X, 7) = 3";
  }

  // Runs the join and rescales its size until one run takes about the target time. Repeated
  // because the first runs are slow (the JIT is still compiling H2's loops) and a single sample
  // could be several times off.
  private static long calibrate(TaskStore store, Duration target) throws SQLException {
    long targetNanos = target.toNanos();
    long outer = 100;
    try (Connection c = store.connect();
        PreparedStatement ps = c.prepareStatement(slowCount())) {
      for (int round = 0; round < 8; round++) {
        ps.setLong(1, outer);
        long start = System.nanoTime();
        try (ResultSet rs = ps.executeQuery()) {
          rs.next();
        }
        long took = Math.max(1, System.nanoTime() - start);
        long next = Math.max(1, Math.min(outer * 10, outer * targetNanos / took));
        boolean close = took > targetNanos * 8 / 10 && took < targetNanos * 12 / 10;
        outer = next;
        if (close) {
          break;
        }
      }
    }
    log.info(
        "slow query calibrated: {} x {} joined rows, about {} ms",
        outer,
        INNER_ROWS,
        target.toMillis());
    return outer;
  }
}
