package io.tracelet.servlet.jetty;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;

import io.opentelemetry.api.OpenTelemetry;
import io.tracelet.CanceledException;
import io.tracelet.Cancellation;
import io.tracelet.ContextDoneException;
import io.tracelet.servlet.TracingConfig;
import io.tracelet.servlet.TracingFilter;
import jakarta.servlet.DispatcherType;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Duration;
import java.util.EnumSet;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;
import org.eclipse.jetty.ee11.servlet.FilterHolder;
import org.eclipse.jetty.ee11.servlet.ServletContextHandler;
import org.eclipse.jetty.ee11.servlet.ServletHolder;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The filter on Jetty 12.1's ee11 environment (Servlet 6.1, what Spring Boot 4 runs): a client that
 * leaves cancels the request's context, as on ee10.
 */
class Ee11DisconnectTest {
  private final CountDownLatch entered = new CountDownLatch(1);
  private final CountDownLatch cancelled = new CountDownLatch(1);
  private final AtomicReference<ContextDoneException> cause = new AtomicReference<>();
  private Server server;
  private int port;

  @BeforeEach
  void startJetty() throws Exception {
    server = new Server();
    ServerConnector connector = new ServerConnector(server);
    connector.setHost("127.0.0.1");
    connector.setPort(0);
    server.addConnector(connector);
    ServletContextHandler context = new ServletContextHandler();
    FilterHolder filter =
        new FilterHolder(
            new TracingFilter(TracingConfig.builder().openTelemetry(OpenTelemetry.noop()).build()));
    filter.setAsyncSupported(true);
    context.addFilter(filter, "/*", EnumSet.of(DispatcherType.REQUEST, DispatcherType.ASYNC));
    context.addServlet(new ServletHolder(new WaitingServlet()), "/wait");
    server.setHandler(context);
    server.start();
    port = connector.getLocalPort();
  }

  @AfterEach
  void stopJetty() throws Exception {
    server.stop();
  }

  @Test
  void aClientThatLeaves_cancelsTheRequestsContext_onEe11() throws Exception {
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress("127.0.0.1", port), 5000);
      OutputStream out = socket.getOutputStream();
      out.write("GET /wait HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".getBytes(US_ASCII));
      out.flush();
      assertThat(entered.await(5, SECONDS)).isTrue();
    }
    assertThat(cancelled.await(5, SECONDS)).as("cancelled after the client left").isTrue();
    assertThat(cause.get()).isInstanceOf(CanceledException.class);
  }

  private final class WaitingServlet extends HttpServlet {
    private static final long serialVersionUID = 1L;

    @Override
    protected void doGet(HttpServletRequest req, HttpServletResponse resp) throws IOException {
      Cancellation cancellation = Cancellation.current();
      entered.countDown();
      try {
        if (cancellation.await(Duration.ofSeconds(10))) {
          cause.set(cancellation.cause());
          cancelled.countDown();
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      resp.getWriter().write("done");
    }
  }
}
