package io.tracelet.servlet.jetty;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;

import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.tracelet.CanceledException;
import io.tracelet.Cancellation;
import io.tracelet.ContextDoneException;
import io.tracelet.servlet.TestSdks;
import io.tracelet.servlet.TracingConfig;
import io.tracelet.servlet.TracingFilter;
import jakarta.servlet.AsyncContext;
import jakarta.servlet.DispatcherType;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.EnumSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import org.eclipse.jetty.ee10.servlet.FilterHolder;
import org.eclipse.jetty.ee10.servlet.ServletContextHandler;
import org.eclipse.jetty.ee10.servlet.ServletHolder;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.http.HttpURI;
import org.eclipse.jetty.http.HttpVersion;
import org.eclipse.jetty.http.MetaData;
import org.eclipse.jetty.http2.HTTP2Session;
import org.eclipse.jetty.http2.api.Session;
import org.eclipse.jetty.http2.api.Stream;
import org.eclipse.jetty.http2.client.HTTP2Client;
import org.eclipse.jetty.http2.frames.HeadersFrame;
import org.eclipse.jetty.http2.server.HTTP2CServerConnectionFactory;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The whole chain on Jetty: the TracingFilter loads the Jetty detector, and a synchronous handler
 * working in the request context sees the cancellation when the client leaves — over HTTP/1.1 and
 * h2c — while a keep-alive connection keeps working.
 */
class TracingFilterDisconnectTest {

  private final InMemorySpanExporter spans = InMemorySpanExporter.create();
  private final OpenTelemetrySdk sdk = TestSdks.recordingInto(spans);
  private final CountDownLatch working = new CountDownLatch(1);
  private final CompletableFuture<ContextDoneException> seen = new CompletableFuture<>();
  private Server server;
  private int port;
  private HTTP2Client http2Client;

  @BeforeEach
  void start() throws Exception {
    server = new Server();
    HttpConfiguration http = new HttpConfiguration();
    ServerConnector connector =
        new ServerConnector(
            server, new HttpConnectionFactory(http), new HTTP2CServerConnectionFactory(http));
    connector.setHost("127.0.0.1");
    server.addConnector(connector);
    ServletContextHandler context = new ServletContextHandler();
    FilterHolder filter =
        new FilterHolder(new TracingFilter(TracingConfig.builder().openTelemetry(sdk).build()));
    filter.setAsyncSupported(true);
    context.addFilter(filter, "/*", EnumSet.of(DispatcherType.REQUEST, DispatcherType.ASYNC));
    context.addServlet(new ServletHolder(new SlowServlet()), "/slow");
    ServletHolder async = new ServletHolder(new AsyncSlowServlet());
    async.setAsyncSupported(true);
    context.addServlet(async, "/async");
    server.setHandler(context);
    server.start();
    port = connector.getLocalPort();
  }

  @AfterEach
  void stop() throws Exception {
    if (http2Client != null) {
      http2Client.stop();
    }
    server.stop();
    sdk.close();
  }

  /** Five seconds of work in the request context, unless the context ends first. */
  private final class SlowServlet extends HttpServlet {
    @Override
    protected void doGet(HttpServletRequest req, HttpServletResponse resp) {
      Cancellation c = Cancellation.current();
      working.countDown();
      try {
        if (req.getParameter("quick") == null && c.await(Duration.ofSeconds(5))) {
          seen.complete(c.cause());
          return;
        }
        resp.getWriter().write("done");
      } catch (Exception e) {
        seen.completeExceptionally(e);
      }
    }
  }

  /**
   * Goes asynchronous and works on a thread of its own in the request context, for {@code ms}
   * milliseconds or until the context ends, then answers and completes.
   */
  private final class AsyncSlowServlet extends HttpServlet {
    @Override
    protected void doGet(HttpServletRequest req, HttpServletResponse resp) {
      AsyncContext async = req.startAsync();
      async.setTimeout(0);
      long ms = Long.parseLong(req.getParameter("ms"));
      async.start(
          () -> {
            Cancellation c = Cancellation.current();
            working.countDown();
            try {
              if (c.await(Duration.ofMillis(ms))) {
                seen.complete(c.cause());
              } else {
                resp.getWriter().write("done");
              }
            } catch (Exception e) {
              seen.completeExceptionally(e);
            } finally {
              async.complete();
            }
          });
    }
  }

  @Test
  void http1AsynchronousRequestPastTheArmingDelay_keepAliveConnectionServesTheNext()
      throws Exception {
    try (Socket socket = connect()) {
      OutputStream out = socket.getOutputStream();
      InputStream in = socket.getInputStream();
      // Long enough for the probe to be armed: it must be withdrawn when the stream completes,
      // after the dispatch returned, or Jetty would abort the connection.
      out.write(
          "GET /async?ms=400 HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      assertThat(readResponse(in)).endsWith("done");
      out.write(
          "GET /slow?quick=1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
              .getBytes(StandardCharsets.US_ASCII));
      String second = new String(in.readAllBytes(), StandardCharsets.US_ASCII);
      assertThat(second).startsWith("HTTP/1.1 200").endsWith("done");
    }
    assertThat(seen).isNotDone();
    assertThat(spans.getFinishedSpanItems())
        .hasSize(2)
        .allSatisfy(span -> assertThat(span.getEvents()).isEmpty());
  }

  @Test
  void http1ClientClosesDuringAnAsynchronousRequest_workSeesClientDisconnected() throws Exception {
    http1ClientLeaves("/async?ms=5000", "filter HTTP/1.1 asynchronous");
  }

  /** A client sends {@code GET path}, and leaves once the work started: the work sees it gone. */
  private void http1ClientLeaves(String path, String what) throws Exception {
    try (Socket socket = connect()) {
      socket
          .getOutputStream()
          .write(
              ("GET " + path + " HTTP/1.1\r\nHost: x\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
      assertThat(working.await(5, SECONDS)).isTrue();
    }
    assertSeenGone(System.nanoTime(), what);
  }

  /** The work saw its client leave within a second of {@code closedAt}, as a disconnect. */
  private void assertSeenGone(long closedAt, String what) throws Exception {
    ContextDoneException cause = seen.get(5, SECONDS);
    System.out.printf(
        "[disconnect-latency] %s: %.1f ms%n", what, (System.nanoTime() - closedAt) / 1e6);
    assertThat(Duration.ofNanos(System.nanoTime() - closedAt)).isLessThan(Duration.ofSeconds(1));
    assertThat(cause).isInstanceOf(CanceledException.class);
    assertThat(cause.getCause()).hasMessage("client disconnected");
  }

  private Socket connect() throws java.io.IOException {
    Socket socket = new Socket();
    socket.connect(new InetSocketAddress("127.0.0.1", port));
    socket.setSoTimeout(10_000);
    return socket;
  }

  /** One response with a Content-Length, read to its end; the headers and the body. */
  private static String readResponse(InputStream in) throws java.io.IOException {
    StringBuilder head = new StringBuilder();
    while (!head.toString().endsWith("\r\n\r\n")) {
      int b = in.read();
      if (b < 0) {
        throw new java.io.EOFException("connection closed after: " + head);
      }
      head.append((char) b);
    }
    java.util.regex.Matcher length =
        java.util.regex.Pattern.compile("(?i)content-length: *(\\d+)").matcher(head);
    int n = length.find() ? Integer.parseInt(length.group(1)) : 0;
    return head + new String(in.readNBytes(n), StandardCharsets.US_ASCII);
  }

  @Test
  void http1ClientCloses_handlerSeesClientDisconnected() throws Exception {
    http1ClientLeaves("/slow", "filter HTTP/1.1");
  }

  @Test
  void h2cClientDrops_handlerSeesClientDisconnected() throws Exception {
    http2Client = new HTTP2Client();
    http2Client.start();
    Session session =
        http2Client
            .connect(new InetSocketAddress("127.0.0.1", port), new Session.Listener() {})
            .get(5, SECONDS);
    MetaData.Request request =
        new MetaData.Request(
            "GET",
            HttpURI.from("http://127.0.0.1:" + port + "/slow"),
            HttpVersion.HTTP_2,
            HttpFields.EMPTY);
    session
        .newStream(new HeadersFrame(request, null, true), new Stream.Listener() {})
        .get(5, SECONDS);
    assertThat(working.await(5, SECONDS)).isTrue();
    long closedAt = System.nanoTime();
    ((HTTP2Session) session).getEndPoint().close();
    assertSeenGone(closedAt, "filter h2c");
  }

  @Test
  void keepAliveConnection_servesTwoRequestsThroughTheFilter() throws Exception {
    try (Socket socket = connect()) {
      OutputStream out = socket.getOutputStream();
      InputStream in = socket.getInputStream();
      out.write(
          ("GET /slow?quick=1 HTTP/1.1\r\nHost: x\r\n\r\n"
                  + "GET /slow?quick=1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
              .getBytes(StandardCharsets.US_ASCII));
      String responses = new String(in.readAllBytes(), StandardCharsets.US_ASCII);
      assertThat(responses.split("HTTP/1.1 200", -1)).hasSize(3);
      assertThat(responses.split("X-Request-ID", -1)).hasSize(3);
      assertThat(seen).isNotDone();
    }
  }
}
