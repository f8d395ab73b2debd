package io.tracelet.servlet;

import static org.assertj.core.api.Assertions.assertThat;

import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.context.Scope;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.metrics.SdkMeterProvider;
import io.opentelemetry.sdk.metrics.data.HistogramPointData;
import io.opentelemetry.sdk.metrics.data.LongPointData;
import io.opentelemetry.sdk.metrics.data.MetricData;
import io.opentelemetry.sdk.testing.exporter.InMemoryMetricReader;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import io.opentelemetry.semconv.ErrorAttributes;
import io.opentelemetry.semconv.HttpAttributes;
import io.opentelemetry.semconv.NetworkAttributes;
import io.opentelemetry.semconv.UrlAttributes;
import io.tracelet.Cancellation;
import jakarta.servlet.DispatcherType;
import jakarta.servlet.Filter;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import org.apache.catalina.connector.Connector;
import org.apache.catalina.startup.Tomcat;
import org.eclipse.jetty.ee10.servlet.FilterHolder;
import org.eclipse.jetty.ee10.servlet.ServletContextHandler;
import org.eclipse.jetty.ee10.servlet.ServletHolder;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The HTTP server metrics (issue 15 §6) on a real Jetty with a real SDK and an in-memory metric
 * reader (and once on Tomcat): the semantic-convention attributes and buckets, active requests back
 * to zero, requests ended by their deadline or by their client, and nothing recorded twice inside
 * an outer instrumentation's span.
 */
class HttpServerMetricsTest {

  private static final AttributeKey<String> CAUSE = AttributeKey.stringKey("tracelet.cause");
  private static final AttributeKey<String> OUTCOME = AttributeKey.stringKey("tracelet.outcome");
  private static final List<Double> SEMCONV_BUCKETS =
      List.of(0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0);

  private final InMemoryMetricReader metrics = InMemoryMetricReader.create();
  private final InMemorySpanExporter spans = InMemorySpanExporter.create();
  private final OpenTelemetrySdk otel =
      OpenTelemetrySdk.builder()
          .setTracerProvider(
              SdkTracerProvider.builder()
                  .addSpanProcessor(SimpleSpanProcessor.create(spans))
                  .build())
          .setMeterProvider(SdkMeterProvider.builder().registerMetricReader(metrics).build())
          .build();
  private Server server;
  private int port;
  // A permit per request that has ended in the filter (its metrics recorded): released by the
  // outermost filter once the chain returned, since a client may read the answer before that.
  private final Semaphore ended = new Semaphore(0);
  // A permit per request that reached /wait, where it counts as active.
  private final Semaphore entered = new Semaphore(0);

  /** In front of every other filter: a request that returned through it has ended in ours. */
  final class EndedFilter implements Filter {
    @Override
    public void doFilter(
        jakarta.servlet.ServletRequest req,
        jakarta.servlet.ServletResponse res,
        jakarta.servlet.FilterChain chain)
        throws IOException, jakarta.servlet.ServletException {
      try {
        chain.doFilter(req, res);
      } finally {
        ended.release();
      }
    }
  }

  /** The application: a route with a 404, an exception, and work that waits for its context. */
  final class App extends HttpServlet {
    @Override
    protected void service(HttpServletRequest req, HttpServletResponse resp) throws IOException {
      switch (req.getServletPath()) {
        case "/orders" -> {
          TracingFilter.setRoute(req, "/orders/{id}");
          resp.sendError(404);
        }
        case "/fail" -> throw new IllegalStateException("boom");
        case "/wait" -> {
          Cancellation c = Cancellation.current();
          entered.release();
          try {
            // Until the deadline passes or the client leaves; the test bounds it, never a sleep.
            c.await(Duration.ofSeconds(30));
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
          c.throwIfCancelled();
          resp.getWriter().write("not cancelled");
        }
        default -> resp.getWriter().write("ok");
      }
    }
  }

  /** An outer instrumentation of the request, as the Java agent is: its span is current. */
  final class OuterFilter implements Filter {
    @Override
    public void doFilter(
        jakarta.servlet.ServletRequest req,
        jakarta.servlet.ServletResponse res,
        jakarta.servlet.FilterChain chain)
        throws IOException, jakarta.servlet.ServletException {
      Span outer = otel.getTracer("outer").spanBuilder("outer").startSpan();
      try (Scope ignored = outer.makeCurrent()) {
        chain.doFilter(req, res);
      } finally {
        outer.end();
      }
    }
  }

  private void start(boolean outer) throws Exception {
    server = new Server();
    ServerConnector connector = new ServerConnector(server);
    connector.setHost("127.0.0.1");
    connector.setPort(0);
    server.addConnector(connector);
    ServletContextHandler context = new ServletContextHandler();
    context.setContextPath("/");
    context.addFilter(
        new FilterHolder(new EndedFilter()), "/*", EnumSet.of(DispatcherType.REQUEST));
    if (outer) {
      context.addFilter(
          new FilterHolder(new OuterFilter()), "/*", EnumSet.of(DispatcherType.REQUEST));
    }
    TracingFilter filter =
        new TracingFilter(
            TracingConfig.builder()
                .openTelemetry(otel)
                .excludedPaths("/health")
                .deadlineHeader("X-Timeout-Ms")
                .build());
    context.addFilter(new FilterHolder(filter), "/*", EnumSet.of(DispatcherType.REQUEST));
    ServletHolder app = new ServletHolder(new App());
    for (String mapping : new String[] {"/ok", "/orders/*", "/fail", "/wait", "/health"}) {
      context.addServlet(app, mapping);
    }
    server.setHandler(context);
    server.start();
    port = connector.getLocalPort();
  }

  private Tomcat tomcat;

  /** The same filter and application on embedded Tomcat 11. */
  private void startTomcat() throws Exception {
    Path baseDir = Files.createTempDirectory("tomcat");
    tomcat = new Tomcat();
    tomcat.setBaseDir(baseDir.toString());
    Connector connector = new Connector();
    connector.setPort(0);
    connector.setProperty("address", "127.0.0.1");
    tomcat.getService().addConnector(connector);
    tomcat.setConnector(connector);
    org.apache.catalina.Context context = tomcat.addContext("", baseDir.toString());
    TracingFilter filter = new TracingFilter(TracingConfig.builder().openTelemetry(otel).build());
    context.addServletContainerInitializer(
        (classes, servletContext) -> {
          servletContext
              .addFilter("ended", new EndedFilter())
              .addMappingForUrlPatterns(EnumSet.of(DispatcherType.REQUEST), true, "/*");
          servletContext
              .addFilter("tracing", filter)
              .addMappingForUrlPatterns(EnumSet.of(DispatcherType.REQUEST), true, "/*");
          servletContext.addServlet("app", new App()).addMapping("/ok", "/fail");
        },
        null);
    tomcat.start();
    port = connector.getLocalPort();
  }

  @AfterEach
  void stop() throws Exception {
    if (server != null) {
      server.stop();
    }
    if (tomcat != null) {
      tomcat.stop();
      tomcat.destroy();
    }
    otel.close();
  }

  @Test
  void ok_recordsDurationWithTheStableAttributesAndBuckets() throws Exception {
    start(false);
    assertThat(RawHttp.send(port, "GET", "/ok").status()).isEqualTo(200);
    awaitEnded(1);

    HistogramPointData point = duration(expected("GET", 200L, "/ok"));
    assertThat(point.getCount()).isEqualTo(1);
    assertThat(point.getBoundaries()).isEqualTo(SEMCONV_BUCKETS);
    MetricData duration = metric("http.server.request.duration").orElseThrow();
    assertThat(duration.getUnit()).isEqualTo("s");
    assertThat(duration.getDescription()).isEqualTo("Duration of HTTP server requests.");
    assertActive(0);
    MetricData active = metric("http.server.active_requests").orElseThrow();
    assertThat(active.getUnit()).isEqualTo("{request}");
    assertThat(active.getLongSumData().getPoints())
        .extracting(LongPointData::getAttributes)
        .containsExactly(
            Attributes.of(
                HttpAttributes.HTTP_REQUEST_METHOD, "GET", UrlAttributes.URL_SCHEME, "http"));
  }

  @Test
  void notFoundWithARoute_recordsTheRouteTheApplicationSet() throws Exception {
    start(false);
    assertThat(RawHttp.send(port, "GET", "/orders/42").status()).isEqualTo(404);
    // Twice: the second request uses the cached attributes, and lands in the same point.
    assertThat(RawHttp.send(port, "GET", "/orders/43").status()).isEqualTo(404);

    Attributes expected = expected("GET", 404L, "/orders/{id}");
    awaitEnded(2);
    assertThat(durationPoint(expected))
        .hasValueSatisfying(p -> assertThat(p.getCount()).isEqualTo(2));
    assertThat(durationPoints())
        .extracting(HistogramPointData::getAttributes)
        .containsExactly(expected);
  }

  @Test
  void exception_isA500WithTheExceptionAsErrorType() throws Exception {
    start(false);
    assertThat(RawHttp.send(port, "POST", "/fail").status()).isEqualTo(500);
    awaitEnded(1);

    duration(
        expected("POST", 500L, "/fail").toBuilder()
            .put(ErrorAttributes.ERROR_TYPE, IllegalStateException.class.getName())
            .build());
    assertActive(0);
  }

  @Test
  void unknownMethod_isCountedAsOther() throws Exception {
    start(false);
    RawHttp.send(port, "BREW", "/ok");
    awaitEnded(1);

    assertThat(durationPoints())
        .anyMatch(p -> "_OTHER".equals(p.getAttributes().get(HttpAttributes.HTTP_REQUEST_METHOD)));
    assertActive(0);
  }

  @Test
  void deadline_isA504CountedAsEndedByDeadline() throws Exception {
    start(false);
    assertThat(RawHttp.send(port, "GET", "/wait", "X-Timeout-Ms: 50").status()).isEqualTo(504);
    awaitEnded(1);

    HistogramPointData point =
        duration(
            expected("GET", 504L, "/wait").toBuilder()
                .put(ErrorAttributes.ERROR_TYPE, "io.tracelet.DeadlineExceededException")
                .build());
    assertThat(point.getCount()).isEqualTo(1);
    assertThat(cancelled("deadline")).isEqualTo(1);
    assertThat(cancelled("client_disconnect")).isZero();
    assertActive(0);
  }

  @Test
  void clientDisconnect_isCountedAndNotAnError() throws Exception {
    start(false);
    try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), port)) {
      socket
          .getOutputStream()
          .write("GET /wait HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      // The request is in the application, and counts as active.
      assertThat(entered.tryAcquire(10, TimeUnit.SECONDS)).as("the request reached /wait").isTrue();
      assertThat(active()).isEqualTo(1);
    }
    awaitEnded(1);
    assertThat(cancelled("client_disconnect")).isEqualTo(1);
    assertActive(0);
    assertThat(durationPoints()).hasSize(1);
    assertThat(durationPoints().get(0).getAttributes().get(ErrorAttributes.ERROR_TYPE)).isNull();
    assertThat(cancelled("deadline")).isZero();
  }

  @Test
  void excludedPath_isStillMeasured_asOpenTelemetrysInstrumentationDoes() throws Exception {
    start(false);
    assertThat(RawHttp.send(port, "GET", "/health").status()).isEqualTo(200);
    awaitEnded(1);

    duration(expected("GET", 200L, "/health"));
    assertThat(spans.getFinishedSpanItems()).isEmpty();
  }

  @Test
  void joinedOuterSpan_recordsNoHttpServerMetrics_theOuterInstrumentationDoes() throws Exception {
    start(true);
    assertThat(RawHttp.send(port, "GET", "/ok").status()).isEqualTo(200);
    assertThat(RawHttp.send(port, "GET", "/wait", "X-Timeout-Ms: 50").status()).isEqualTo(504);

    awaitEnded(2);

    // The filter ran and joined the outer span for both requests...
    assertThat(incoming("joined")).isEqualTo(2);
    assertThat(cancelled("deadline")).isEqualTo(1);
    // ...and left http.server.* to the outer instrumentation: its own early-end count stays.
    assertThat(metric("http.server.request.duration")).isEmpty();
    assertThat(metric("http.server.active_requests")).isEmpty();
  }

  @Test
  void tomcat_recordsTheSameAttributes() throws Exception {
    startTomcat();
    assertThat(RawHttp.send(port, "GET", "/ok").status()).isEqualTo(200);
    assertThat(RawHttp.send(port, "POST", "/fail").status()).isEqualTo(500);
    awaitEnded(2);

    duration(expected("GET", 200L, "/ok"));
    duration(
        expected("POST", 500L, "/fail").toBuilder()
            .put(ErrorAttributes.ERROR_TYPE, IllegalStateException.class.getName())
            .build());
    assertActive(0);
  }

  /** Waits (bounded) until {@code requests} more requests have ended in the filter. */
  private void awaitEnded(int requests) throws InterruptedException {
    assertThat(ended.tryAcquire(requests, 10, TimeUnit.SECONDS))
        .as("%d request(s) ended within 10 s", requests)
        .isTrue();
  }

  private HistogramPointData duration(Attributes attributes) {
    return durationPoint(attributes)
        .orElseThrow(() -> new AssertionError("no duration point " + attributes));
  }

  private Optional<HistogramPointData> durationPoint(Attributes attributes) {
    return durationPoints().stream().filter(p -> p.getAttributes().equals(attributes)).findFirst();
  }

  private List<HistogramPointData> durationPoints() {
    return metric("http.server.request.duration")
        .map(m -> List.copyOf(m.getHistogramData().getPoints()))
        .orElse(List.of());
  }

  private void assertActive(long value) {
    assertThat(active()).isEqualTo(value);
  }

  private long active() {
    return metric("http.server.active_requests")
        .map(m -> m.getLongSumData().getPoints().stream().mapToLong(LongPointData::getValue).sum())
        .orElse(0L);
  }

  private long cancelled(String cause) {
    return sum("tracelet.server.cancelled_requests", CAUSE, cause);
  }

  private long incoming(String outcome) {
    return sum("tracelet.server.incoming_context", OUTCOME, outcome);
  }

  private long sum(String name, AttributeKey<String> key, String value) {
    return metric(name)
        .map(
            m ->
                m.getLongSumData().getPoints().stream()
                    .filter(p -> value.equals(p.getAttributes().get(key)))
                    .mapToLong(LongPointData::getValue)
                    .sum())
        .orElse(0L);
  }

  /** The attributes of a request measured over HTTP/1.1 at {@code route}. */
  private static Attributes expected(String method, long status, String route) {
    return Attributes.builder()
        .put(HttpAttributes.HTTP_REQUEST_METHOD, method)
        .put(UrlAttributes.URL_SCHEME, "http")
        .put(HttpAttributes.HTTP_RESPONSE_STATUS_CODE, status)
        .put(HttpAttributes.HTTP_ROUTE, route)
        .put(NetworkAttributes.NETWORK_PROTOCOL_VERSION, "1.1")
        .build();
  }

  private Optional<MetricData> metric(String name) {
    return metrics.collectAllMetrics().stream()
        .filter(m -> m.getName().equals(name))
        .filter(m -> m.getInstrumentationScopeInfo().getName().equals("io.tracelet.servlet"))
        .findFirst();
  }
}
