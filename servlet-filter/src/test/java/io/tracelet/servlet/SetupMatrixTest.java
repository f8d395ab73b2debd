package io.tracelet.servlet;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.opentelemetry.api.GlobalOpenTelemetry;
import io.opentelemetry.api.trace.SpanId;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.TraceId;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.propagation.TextMapPropagator;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.tracelet.http.ContextHttpClient;
import io.tracelet.logging.TraceletMdc;
import io.tracelet.sdk.TraceletOpenTelemetry;
import jakarta.servlet.DispatcherType;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.eclipse.jetty.ee10.servlet.FilterHolder;
import org.eclipse.jetty.ee10.servlet.ServletContextHandler;
import org.eclipse.jetty.ee10.servlet.ServletHolder;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * The IDs, the propagation, the response headers and the MDC are the same in every OpenTelemetry
 * set-up; only where the spans go differs (issue 15 §1). Each set-up runs a real Jetty with the
 * filter, a handler that reads its MDC, injects the context and calls a second Jetty through {@link
 * ContextHttpClient}.
 */
class SetupMatrixTest {

  static final String CALLER_TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";
  static final String CALLER_SPAN_ID = "00f067aa0ba902b7";
  static final String CALLER = "00-" + CALLER_TRACE_ID + "-" + CALLER_SPAN_ID + "-01";

  /** The set-ups users have; the first four through {@link TraceletOpenTelemetry}. */
  enum Setup {
    NO_PROCESSOR("off", "none"),
    SPAN_LOG_ONLY("end", "none"),
    EXPORTER_ONLY("off", MemoryExporterProvider.NAME),
    SPAN_LOG_AND_EXPORTER("end", MemoryExporterProvider.NAME),
    NO_SDK(null, null);

    final String spanLog;
    final String exporter;

    Setup(String spanLog, String exporter) {
      this.spanLog = spanLog;
      this.exporter = exporter;
    }

    boolean hasSdk() {
      return spanLog != null;
    }

    boolean exports() {
      return MemoryExporterProvider.NAME.equals(exporter);
    }
  }

  /** What the handler saw while it ran. */
  record Seen(
      String mdcTraceId,
      String mdcSpanId,
      String mdcRequestId,
      String injected,
      String downstreamTraceparent) {}

  private final AtomicReference<Seen> seen = new AtomicReference<>();
  private final AtomicReference<String> downstreamTraceparent = new AtomicReference<>();
  private final ListAppender<ILoggingEvent> filterLog = new ListAppender<>();
  private final Logger filterLogger = (Logger) LoggerFactory.getLogger(TracingFilter.class);
  private final HttpClient client = HttpClient.newHttpClient();
  private TraceletOpenTelemetry otel;
  private Server downstream;
  private Server app;

  @BeforeAll
  static void installMdc() {
    TraceletMdc.install();
    assertThat(TraceletMdc.isActive()).as("MDC correlation is on").isTrue();
  }

  private void start(Setup setup) throws Exception {
    GlobalOpenTelemetry.resetForTest();
    MemoryExporterProvider.EXPORTER.reset();
    filterLog.start();
    filterLogger.addAppender(filterLog);
    if (setup.hasSdk()) {
      otel =
          TraceletOpenTelemetry.builder()
              .setShutdownHook(false)
              .setProperty(TraceletOpenTelemetry.SPAN_LOG_PROPERTY, setup.spanLog)
              .setProperty("otel.traces.exporter", setup.exporter)
              .initialize();
    }
    downstream = new Server();
    ServerConnector downstreamConnector = new ServerConnector(downstream);
    downstreamConnector.setHost("127.0.0.1");
    downstream.addConnector(downstreamConnector);
    ServletContextHandler downstreamContext = new ServletContextHandler();
    downstreamContext.addServlet(new ServletHolder(new DownstreamServlet()), "/*");
    downstream.setHandler(downstreamContext);
    downstream.start();
    URI downstreamUri =
        URI.create("http://127.0.0.1:" + downstreamConnector.getLocalPort() + "/payments");

    app = new Server();
    ServerConnector connector = new ServerConnector(app);
    connector.setHost("127.0.0.1");
    app.addConnector(connector);
    ServletContextHandler context = new ServletContextHandler();
    // No OpenTelemetry in the config: the filter takes the global one, as users' filters do.
    FilterHolder filter = new FilterHolder(new TracingFilter(TracingConfig.defaults()));
    context.addFilter(filter, "/*", EnumSet.of(DispatcherType.REQUEST));
    context.addServlet(new ServletHolder(new HandlerServlet(downstreamUri)), "/work");
    app.setHandler(context);
    app.start();
    appUri = URI.create("http://127.0.0.1:" + connector.getLocalPort() + "/work");
  }

  private URI appUri;

  @AfterEach
  void stop() throws Exception {
    filterLogger.detachAppender(filterLog);
    if (app != null) {
      app.stop();
    }
    if (downstream != null) {
      downstream.stop();
    }
    if (otel != null) {
      otel.close();
    }
    GlobalOpenTelemetry.resetForTest();
  }

  @ParameterizedTest
  @EnumSource(Setup.class)
  void incomingTraceparent_isContinuedWithTheServersOwnSpanId(Setup setup) throws Exception {
    start(setup);
    HttpResponse<String> response = get(CALLER);
    String[] tr = traceresponse(response);
    assertThat(tr[1]).as("trace ID").isEqualTo(CALLER_TRACE_ID);
    assertThat(tr[2]).as("the server's span ID, not the caller's").isNotEqualTo(CALLER_SPAN_ID);
    assertThat(tr[3]).as("sampled as the caller said").isEqualTo("01");
    assertSameIdsEverywhere(setup, response, tr);
    if (setup.exports()) {
      SpanData server = exported(SpanKind.SERVER, tr[2]);
      assertThat(server.getParentSpanId()).isEqualTo(CALLER_SPAN_ID);
    }
  }

  @ParameterizedTest
  @EnumSource(Setup.class)
  void noTraceparent_startsANewTraceWithValidIds(Setup setup) throws Exception {
    start(setup);
    HttpResponse<String> first = get(null);
    String[] tr = traceresponse(first);
    assertThat(TraceId.isValid(tr[1])).as(tr[1]).isTrue();
    // The SDK's default sampler samples a new trace; without an SDK nothing is recorded, so the
    // new trace is not sampled (as OpenTelemetry's own propagation-only behaviour). Either way the
    // trace ID is random, and flagged so (W3C Trace Context level 2).
    assertThat(tr[3]).isEqualTo(setup.hasSdk() ? "03" : "02");
    assertSameIdsEverywhere(setup, first, tr);
    String[] second = traceresponse(get(null));
    assertThat(second[1]).as("each request its own trace").isNotEqualTo(tr[1]);
  }

  @ParameterizedTest
  @EnumSource(Setup.class)
  void onlyANoopOpenTelemetry_isWarnedAbout_onceAtInit(Setup setup) throws Exception {
    start(setup);
    get(CALLER);
    get(null);
    List<String> warnings =
        filterLog.list.stream()
            .filter(e -> e.getLevel() == Level.WARN)
            .map(ILoggingEvent::getFormattedMessage)
            .toList();
    if (setup.hasSdk()) {
      assertThat(warnings).isEmpty();
    } else {
      assertThat(warnings)
          .singleElement()
          .asString()
          .contains("no OpenTelemetry SDK is set up")
          .contains("no spans are recorded")
          .contains("TraceletOpenTelemetry.initialize()")
          .contains("TracingConfig.builder().openTelemetry(")
          .contains("Java agent");
    }
  }

  private void assertSameIdsEverywhere(Setup setup, HttpResponse<String> response, String[] tr)
      throws Exception {
    assertThat(response.statusCode()).isEqualTo(200);
    String traceId = tr[1];
    String spanId = tr[2];
    assertThat(SpanId.isValid(spanId)).as(spanId).isTrue();
    Seen s = seen.get();
    assertThat(s.mdcTraceId()).as("MDC trace_id").isEqualTo(traceId);
    assertThat(s.mdcSpanId()).as("MDC span_id").isEqualTo(spanId);
    assertThat(s.mdcRequestId())
        .as("MDC request_id")
        .isNotEmpty()
        .isEqualTo(response.headers().firstValue("X-Request-ID").orElseThrow());
    assertThat(s.injected())
        .as("traceparent injected from the handler's context")
        .isEqualTo("00-" + traceId + "-" + spanId + "-" + tr[3]);
    // Through ContextHttpClient: its CLIENT span (with an SDK) or the server span (without).
    String[] out = s.downstreamTraceparent().split("-");
    assertThat(out[1]).as("downstream trace ID").isEqualTo(traceId);
    assertThat(SpanId.isValid(out[2])).as(out[2]).isTrue();
    assertThat(out[2]).as("downstream parent").isNotEqualTo(CALLER_SPAN_ID);
    if (!setup.hasSdk()) {
      assertThat(out[2]).isEqualTo(spanId);
    }
    if (setup.exports()) {
      assertThat(exported(SpanKind.CLIENT, out[2]).getParentSpanId()).isEqualTo(spanId);
    }
  }

  private SpanData exported(SpanKind kind, String spanId) {
    // The server span ends before the response is sent (the handler does not flush), so once the
    // client has the response the span is in the batch processor's queue: a flush exports it.
    ((OpenTelemetrySdk) otel.openTelemetry())
        .getSdkTracerProvider()
        .forceFlush()
        .join(10, TimeUnit.SECONDS);
    return MemoryExporterProvider.EXPORTER.getFinishedSpanItems().stream()
        .filter(d -> d.getKind() == kind && d.getSpanId().equals(spanId))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no exported " + kind + " span " + spanId));
  }

  private HttpResponse<String> get(String traceparent) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(appUri);
    if (traceparent != null) {
      b.header("traceparent", traceparent);
    }
    return client.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  private static String[] traceresponse(HttpResponse<?> response) {
    String value = response.headers().firstValue("traceresponse").orElse(null);
    assertThat(value)
        .as("traceresponse")
        .isNotNull()
        .matches("00-[0-9a-f]{32}-[0-9a-f]{16}-0[0-3]");
    return value.split("-");
  }

  /** The application: what it sees of its context, and a traced call to the downstream. */
  private final class HandlerServlet extends HttpServlet {
    private final URI downstreamUri;
    private volatile HttpClient traced;

    HandlerServlet(URI downstreamUri) {
      this.downstreamUri = downstreamUri;
    }

    @Override
    protected void doGet(HttpServletRequest req, HttpServletResponse resp) throws IOException {
      TextMapPropagator outbound =
          (TextMapPropagator)
              req.getServletContext().getAttribute(TracingFilter.OUTBOUND_PROPAGATOR_ATTRIBUTE);
      Map<String, String> carrier = new HashMap<>();
      outbound.inject(Context.current(), carrier, Map::put);
      if (traced == null) {
        // The filter's outbound propagator: a no-op OpenTelemetry has no propagators of its own.
        traced =
            ContextHttpClient.builder(HttpClient.newHttpClient()).setPropagator(outbound).build();
      }
      downstreamTraceparent.set(null);
      try {
        traced.send(
            HttpRequest.newBuilder(downstreamUri).build(), HttpResponse.BodyHandlers.discarding());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IOException(e);
      }
      seen.set(
          new Seen(
              MDC.get(TraceletMdc.TRACE_ID),
              MDC.get(TraceletMdc.SPAN_ID),
              MDC.get(TraceletMdc.REQUEST_ID),
              carrier.get("traceparent"),
              downstreamTraceparent.get()));
      resp.getWriter().write("ok");
    }
  }

  private final class DownstreamServlet extends HttpServlet {
    @Override
    protected void doGet(HttpServletRequest req, HttpServletResponse resp) {
      downstreamTraceparent.set(req.getHeader("traceparent"));
      resp.setStatus(200);
    }
  }
}
