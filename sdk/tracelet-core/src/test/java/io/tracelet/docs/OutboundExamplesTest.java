package io.tracelet.docs;

import static org.assertj.core.api.Assertions.assertThat;

import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.Scope;
import io.tracelet.CancellableContext;
import io.tracelet.concurrent.ContextExecutors;
import io.tracelet.http.ContextHttpClient;
import io.tracelet.jdbc.JdbcContext;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpResponse.BodyHandlers;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.Callback;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The examples of {@code docs/outbound.md}, compiled and run; {@code DocSnippetsTest} checks that
 * the document shows exactly the regions between the snippet markers.
 */
class OutboundExamplesTest {

  // snippet: http
  static String fetchGreeting(OpenTelemetry openTelemetry, URI uri)
      throws IOException, InterruptedException {
    HttpClient client =
        ContextHttpClient.builder(HttpClient.newHttpClient())
            .setOpenTelemetry(openTelemetry)
            .enableDeadlineHeader() // X-Request-Timeout-Ms: the time we are still willing to wait
            .build();
    try (CancellableContext ctx = CancellableContext.withTimeout(Duration.ofSeconds(2));
        Scope scope = ctx.makeCurrent()) {
      // A CLIENT span, traceparent + X-Request-ID sent, bounded by the 2 s (or the caller's
      // earlier deadline); throws DeadlineExceededException or CanceledException when it ends.
      HttpResponse<String> response =
          client.send(HttpRequest.newBuilder(uri).build(), BodyHandlers.ofString());
      return response.body();
    }
  }

  // end-snippet

  // snippet: jdbc
  static long countOrders(Connection connection, long customerId) throws SQLException {
    try (PreparedStatement ps =
        JdbcContext.bind(
            connection.prepareStatement("SELECT COUNT(*) FROM ORDERS WHERE CUSTOMER_ID = ?"))) {
      ps.setLong(1, customerId);
      // Query timeout = the current context's remaining time, rounded up to whole seconds;
      // cancelling the context calls Statement.cancel() and this throws the context's cause.
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getLong(1);
      }
    }
  }

  // end-snippet

  // snippet: executors
  static List<String> loadAll(ExecutorService pool, List<Callable<String>> loaders)
      throws InterruptedException, ExecutionException {
    ExecutorService contextPool = ContextExecutors.wrap(pool);
    try (CancellableContext ctx = CancellableContext.withTimeout(Duration.ofSeconds(1));
        Scope scope = ctx.makeCurrent()) {
      List<Future<String>> futures = new ArrayList<>();
      for (Callable<String> loader : loaders) {
        futures.add(contextPool.submit(loader)); // runs in ctx: same trace, same deadline
      }
      List<String> results = new ArrayList<>();
      for (Future<String> f : futures) {
        results.add(f.get()); // once ctx is done: not started / interrupted, get() throws its cause
      }
      return results;
    }
  }

  // end-snippet

  private Server server;

  @AfterEach
  void stop() throws Exception {
    if (server != null) {
      server.stop();
    }
    assertThat(Context.current()).isSameAs(Context.root());
  }

  @Test
  void httpExample_callsTheServer() throws Exception {
    server = new Server();
    ServerConnector connector = new ServerConnector(server);
    connector.setHost("127.0.0.1");
    connector.setPort(0);
    server.addConnector(connector);
    server.setHandler(
        new Handler.Abstract() {
          @Override
          public boolean handle(Request request, Response response, Callback callback) {
            Content.Sink.write(response, true, "hello", callback);
            return true;
          }
        });
    server.start();
    URI uri = URI.create("http://127.0.0.1:" + connector.getLocalPort() + "/greeting");
    assertThat(fetchGreeting(OpenTelemetry.noop(), uri)).isEqualTo("hello");
  }

  @Test
  void jdbcExample_runsTheQuery() throws SQLException {
    try (Connection connection = DriverManager.getConnection("jdbc:h2:mem:docs")) {
      try (Statement s = connection.createStatement()) {
        s.execute("CREATE TABLE ORDERS (ID INT PRIMARY KEY, CUSTOMER_ID BIGINT)");
        s.execute("INSERT INTO ORDERS VALUES (1, 7), (2, 7), (3, 8)");
      }
      assertThat(countOrders(connection, 7)).isEqualTo(2);
    }
  }

  @Test
  void executorsExample_runsTheLoaders() throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(2);
    try {
      assertThat(loadAll(pool, List.of(() -> "a", () -> "b"))).containsExactly("a", "b");
    } finally {
      pool.shutdown();
    }
  }
}
