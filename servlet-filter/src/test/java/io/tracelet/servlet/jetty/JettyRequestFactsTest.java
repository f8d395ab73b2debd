package io.tracelet.servlet.jetty;

import static java.util.concurrent.TimeUnit.MILLISECONDS;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;

import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.semconv.ClientAttributes;
import io.opentelemetry.semconv.ServerAttributes;
import io.tracelet.servlet.TestSdks;
import io.tracelet.servlet.TracingConfig;
import io.tracelet.servlet.TracingFilter;
import io.tracelet.servlet.internal.container.RequestFacts;
import jakarta.servlet.DispatcherType;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletRequestWrapper;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.EnumSet;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.locks.LockSupport;
import org.eclipse.jetty.ee10.servlet.FilterHolder;
import org.eclipse.jetty.ee10.servlet.ServletContextHandler;
import org.eclipse.jetty.ee10.servlet.ServletHolder;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.http.HttpURI;
import org.eclipse.jetty.http.HttpVersion;
import org.eclipse.jetty.http.MetaData;
import org.eclipse.jetty.http2.api.Session;
import org.eclipse.jetty.http2.api.Stream;
import org.eclipse.jetty.http2.client.HTTP2Client;
import org.eclipse.jetty.http2.frames.HeadersFrame;
import org.eclipse.jetty.http2.server.HTTP2CServerConnectionFactory;
import org.eclipse.jetty.server.ForwardedRequestCustomizer;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * On Jetty the client address and server name and port of the server span are kept with the
 * connection (Jetty formats them anew on every servlet-API call). They must stay what the servlet
 * API answers for each request: a later request on the same kept-alive connection with another
 * {@code Host}, an HTTP/1.0 request without one, and a forwarded-headers customizer that gives each
 * request its own client address. Real Jetty, requests written by hand on one socket.
 */
class JettyRequestFactsTest {

  private final InMemorySpanExporter exporter = InMemorySpanExporter.create();
  private final OpenTelemetrySdk otel = TestSdks.recordingInto(exporter);
  // What the servlet API answered in each request, and what the adapter kept, in order.
  private final List<RequestFacts> servletApi = new CopyOnWriteArrayList<>();
  private final List<RequestFacts> kept = new CopyOnWriteArrayList<>();
  private Server server;
  private HTTP2Client http2Client;

  private int start(boolean forwarded) throws Exception {
    server = new Server();
    HttpConfiguration config = new HttpConfiguration();
    if (forwarded) {
      config.addCustomizer(new ForwardedRequestCustomizer());
    }
    ServerConnector connector =
        new ServerConnector(
            server, new HttpConnectionFactory(config), new HTTP2CServerConnectionFactory(config));
    connector.setHost("127.0.0.1");
    connector.setPort(0);
    server.addConnector(connector);
    ServletContextHandler context = new ServletContextHandler();
    context.setContextPath("/");
    context.addFilter(
        new FilterHolder(new TracingFilter(TracingConfig.builder().openTelemetry(otel).build())),
        "/*",
        EnumSet.of(DispatcherType.REQUEST));
    JettyHeaders headers = new JettyHeaders();
    context.addServlet(
        new ServletHolder(
            new HttpServlet() {
              @Override
              protected void doGet(HttpServletRequest req, HttpServletResponse resp)
                  throws IOException {
                servletApi.add(
                    new RequestFacts(
                        req.getRemoteAddr(), req.getServerName(), req.getServerPort()));
                kept.add(headers.facts((HttpServletRequest) unwrapped(req)));
                resp.setContentLength(2);
                resp.getOutputStream().write("ok".getBytes(StandardCharsets.US_ASCII));
              }
            }),
        "/facts");
    server.setHandler(context);
    server.start();
    return connector.getLocalPort();
  }

  private static ServletRequest unwrapped(ServletRequest request) {
    ServletRequest r = request;
    while (r instanceof ServletRequestWrapper wrapper) {
      r = wrapper.getRequest();
    }
    return r;
  }

  @AfterEach
  void stop() throws Exception {
    if (http2Client != null) {
      http2Client.stop();
    }
    if (server != null) {
      server.stop();
    }
    otel.close();
  }

  @Test
  void requestsOnOneConnection_shareTheFactsWhileTheAuthorityStaysTheSame() throws Exception {
    int port = start(false);
    try (Socket socket = connect(port)) {
      for (int i = 0; i < 4; i++) {
        exchange(socket, "GET /facts HTTP/1.1\r\nHost: 127.0.0.1:" + port + "\r\n\r\n");
      }
    }
    assertThat(kept).hasSize(4);
    assertThat(kept.get(1)).isSameAs(kept.get(0));
    assertThat(kept.get(2)).isSameAs(kept.get(0));
    assertSpansMatchTheServletApi(3);
    assertThat(servletApi.get(0).serverPort()).isEqualTo(port);
  }

  @Test
  void anotherHostOnTheSameConnection_getsItsOwnServerNameAndPort() throws Exception {
    int port = start(false);
    try (Socket socket = connect(port)) {
      exchange(socket, "GET /facts HTTP/1.1\r\nHost: first.example:8081\r\n\r\n");
      exchange(socket, "GET /facts HTTP/1.1\r\nHost: second.example\r\n\r\n");
      exchange(socket, "GET /facts HTTP/1.1\r\nHost: first.example:8081\r\n\r\n");
      // HTTP/1.0 may name no host: the servlet API falls back to the connection's local address.
      exchange(socket, "GET /facts HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
      exchange(socket, "GET /facts HTTP/1.1\r\nHost: first.example:8081\r\n\r\n");
    }
    assertSpansMatchTheServletApi(4);
    assertThat(servletApi.get(0).serverName()).isEqualTo("first.example");
    assertThat(servletApi.get(0).serverPort()).isEqualTo(8081);
    assertThat(servletApi.get(1).serverName()).isEqualTo("second.example");
    assertThat(servletApi.get(1).serverPort()).isEqualTo(80);
    assertThat(servletApi.get(3).serverPort()).isEqualTo(port);
  }

  @Test
  void h2cStreamsOfOneConnection_getTheServletApisAnswersForTheirAuthority() throws Exception {
    int port = start(false);
    http2Client = new HTTP2Client();
    http2Client.start();
    Session session =
        http2Client
            .connect(new InetSocketAddress("127.0.0.1", port), new Session.Listener() {})
            .get(5, SECONDS);
    get(session, "http://first.example:8081/facts");
    get(session, "http://first.example:8081/facts");
    get(session, "http://second.example/facts");
    awaitSpans(3);
    assertSpansMatchTheServletApi(3, 3);
    // The HTTP/2 connection keeps them too, for its streams with the same authority.
    assertThat(kept.get(0)).isNotNull();
    assertThat(kept.get(1)).isSameAs(kept.get(0));
    assertThat(servletApi.get(2).serverName()).isEqualTo("second.example");
  }

  /** One GET on its own stream of {@code session}, read to the end of its answer. */
  private static void get(Session session, String uri) throws Exception {
    CompletableFuture<Void> done = new CompletableFuture<>();
    MetaData.Request request =
        new MetaData.Request("GET", HttpURI.from(uri), HttpVersion.HTTP_2, HttpFields.EMPTY);
    session
        .newStream(
            new HeadersFrame(request, null, true),
            new Stream.Listener() {
              @Override
              public void onHeaders(Stream stream, HeadersFrame frame) {
                if (frame.isEndStream()) {
                  done.complete(null);
                } else {
                  stream.demand();
                }
              }

              @Override
              public void onDataAvailable(Stream stream) {
                Stream.Data data = stream.readData();
                if (data == null) {
                  stream.demand();
                  return;
                }
                boolean end = data.frame().isEndStream();
                data.release();
                if (end) {
                  done.complete(null);
                } else {
                  stream.demand();
                }
              }
            })
        .get(5, SECONDS);
    done.get(5, SECONDS);
  }

  /**
   * Waits (bounded) until {@code count} server spans ended: HTTP/2 answers before the span ends.
   */
  private void awaitSpans(int count) {
    long deadline = System.nanoTime() + SECONDS.toNanos(5);
    while (exporter.getFinishedSpanItems().size() < count) {
      assertThat(System.nanoTime()).as("%d spans within 5 s", count).isLessThan(deadline);
      LockSupport.parkNanos(MILLISECONDS.toNanos(1));
    }
  }

  @Test
  void forwardedClientAddresses_areReadPerRequest() throws Exception {
    int port = start(true);
    try (Socket socket = connect(port)) {
      exchange(socket, "GET /facts HTTP/1.1\r\nHost: app.example\r\n\r\n");
      exchange(
          socket, "GET /facts HTTP/1.1\r\nHost: app.example\r\nX-Forwarded-For: 10.0.0.1\r\n\r\n");
      exchange(
          socket, "GET /facts HTTP/1.1\r\nHost: app.example\r\nX-Forwarded-For: 10.0.0.2\r\n\r\n");
      exchange(socket, "GET /facts HTTP/1.1\r\nHost: app.example\r\n\r\n");
    }
    assertSpansMatchTheServletApi(3);
    assertThat(servletApi.get(0).clientAddress()).isEqualTo("127.0.0.1");
    assertThat(servletApi.get(1).clientAddress()).isEqualTo("10.0.0.1");
    assertThat(servletApi.get(2).clientAddress()).isEqualTo("10.0.0.2");
    // A forwarded request has connection data of its own: nothing kept is used for it, and what
    // the connection keeps still serves its requests without forwarded headers.
    assertThat(kept.get(0)).isNotNull();
    assertThat(kept.get(1)).isNull();
    assertThat(kept.get(2)).isNull();
    assertThat(kept.get(3)).isSameAs(kept.get(0));
  }

  /**
   * The server spans of the first {@code requests} requests, in request order, carry what the
   * servlet API answered in each. A span ends after its response may have been read; the test's
   * last exchange is one more request, which Jetty only runs once the one before it completed.
   */
  private void assertSpansMatchTheServletApi(int requests) {
    assertSpansMatchTheServletApi(requests, requests + 1);
  }

  /** As above, when {@code answered} requests were answered in all. */
  private void assertSpansMatchTheServletApi(int requests, int answered) {
    List<SpanData> spans =
        exporter.getFinishedSpanItems().stream()
            .sorted((a, b) -> Long.compare(a.getStartEpochNanos(), b.getStartEpochNanos()))
            .limit(requests)
            .toList();
    assertThat(spans).hasSize(requests);
    assertThat(servletApi).hasSize(answered);
    for (int i = 0; i < requests; i++) {
      Attributes a = spans.get(i).getAttributes();
      RequestFacts expected = servletApi.get(i);
      assertThat(a.get(ClientAttributes.CLIENT_ADDRESS))
          .as("client.address of request %d", i)
          .isEqualTo(expected.clientAddress());
      assertThat(a.get(ServerAttributes.SERVER_ADDRESS))
          .as("server.address of request %d", i)
          .isEqualTo(expected.serverName());
      assertThat(a.get(ServerAttributes.SERVER_PORT))
          .as("server.port of request %d", i)
          .isEqualTo((long) expected.serverPort());
    }
  }

  private static Socket connect(int port) throws IOException {
    Socket socket = new Socket("127.0.0.1", port);
    socket.setSoTimeout(10_000);
    return socket;
  }

  /** Writes one request and reads its response to the end of its two-byte body. */
  private static void exchange(Socket socket, String request) throws IOException {
    OutputStream out = socket.getOutputStream();
    out.write(request.getBytes(StandardCharsets.US_ASCII));
    out.flush();
    InputStream in = socket.getInputStream();
    StringBuilder received = new StringBuilder();
    int bodyStart = -1;
    while (bodyStart < 0 || received.length() < bodyStart + 2) {
      int b = in.read();
      if (b < 0) {
        throw new IOException("connection closed after: " + received);
      }
      received.append((char) b);
      if (bodyStart < 0 && received.length() >= 4 && received.lastIndexOf("\r\n\r\n") >= 0) {
        bodyStart = received.length();
      }
    }
    assertThat(received.toString()).startsWith("HTTP/1.1 200").endsWith("ok");
  }
}
