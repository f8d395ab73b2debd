package io.tracelet.benchmarks;

import brave.Tracing;
import brave.handler.MutableSpan;
import brave.handler.SpanHandler;
import brave.http.HttpTracing;
import brave.propagation.TraceContext;
import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.baggage.propagation.W3CBaggagePropagator;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.Scope;
import io.opentelemetry.context.propagation.ContextPropagators;
import io.opentelemetry.context.propagation.TextMapGetter;
import io.opentelemetry.context.propagation.TextMapPropagator;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.export.BatchSpanProcessor;
import io.opentelemetry.sdk.trace.export.SpanExporter;
import io.opentelemetry.semconv.HttpAttributes;
import io.opentelemetry.semconv.UrlAttributes;
import io.tracelet.logging.TraceletMdc;
import io.tracelet.servlet.TracingConfig;
import io.tracelet.servlet.TracingFilter;
import jakarta.servlet.DispatcherType;
import jakarta.servlet.Filter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Collections;
import java.util.EnumSet;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import org.eclipse.jetty.ee10.servlet.FilterHolder;
import org.eclipse.jetty.ee10.servlet.ServletContextHandler;
import org.eclipse.jetty.ee10.servlet.ServletHolder;
import org.eclipse.jetty.http.HttpTester;
import org.eclipse.jetty.server.LocalConnector;
import org.eclipse.jetty.server.Server;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * One HTTP/1.1 request per operation to a hello-world servlet on Jetty 12 (ee10), through Jetty's
 * in-process {@link LocalConnector} on a kept-alive connection: no TCP, but the real HTTP parser,
 * thread pool hand-off, servlet request and response. The {@code filter} parameter puts one tracing
 * filter in front of the servlet:
 *
 * <ul>
 *   <li>{@code none}: the baseline; what Jetty itself allocates per request.
 *   <li>{@code sameHeaders}: a control: no tracing, only a filter writing the two response headers
 *       Tracelet writes, with values of the same length, to separate Jetty's cost of a longer
 *       response from the tracer's.
 *   <li>{@code tracelet}: Tracelet's filter with everything on: server span, request ID (generated,
 *       echoed), a 30 s request timeout (a timer is armed and cancelled per request), MDC
 *       correlation ({@link TraceletMdc#install()}, logback's MDC adapter) and the default response
 *       headers ({@code X-Request-ID}, {@code traceresponse}).
 *   <li>{@code traceletNoMdc}: the same without MDC correlation, to show what MDC costs.
 *   <li>{@code traceletNoHeaders}, {@code traceletNoTimeout}: {@code tracelet} without its response
 *       headers, or without its request timeout (MDC on in both).
 *   <li>{@code traceletBare}: none of those (no MDC, no timeout, no response headers, no disconnect
 *       detection, which {@code LocalConnector} never arms anyway): the trace context, request ID
 *       and server span, what {@code opentelemetry} does too, with more attributes.
 *   <li>{@code opentelemetry}: a minimal filter written directly on the OpenTelemetry SDK.
 *   <li>{@code brave}: Brave's servlet {@code TracingFilter}, spans handed to a counting handler.
 * </ul>
 *
 * <p>Every tracer records its spans: the OpenTelemetry SDKs have a batch span processor with an
 * exporter that drops every batch; Brave has a span handler that counts. The request carries both a
 * W3C {@code traceparent} and a B3 {@code b3} header, so each tracer continues a sampled trace in
 * its own format. No span log is installed and loggers are at WARN (see logback.xml). Run with
 * {@code -prof gc}: {@code gc.alloc.rate.norm} counts every thread, so it includes Jetty's worker.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
// MDC correlation only where a benchmark installs it, not through the service provider for all.
@Fork(value = 5, jvmArgsAppend = "-Dio.opentelemetry.context.contextStorageProvider=default")
@State(org.openjdk.jmh.annotations.Scope.Thread)
public class ServerBenchmark {

  static final String REQUEST =
      "GET /hello HTTP/1.1\r\n"
          + "Host: localhost\r\n"
          + "traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\r\n"
          + "b3: 4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1\r\n"
          + "\r\n";

  @Param({
    "none",
    "sameHeaders",
    "tracelet",
    "traceletNoMdc",
    "traceletNoHeaders",
    "traceletNoTimeout",
    "traceletBare",
    "opentelemetry",
    "brave"
  })
  public String filter;

  private Server server;
  private LocalConnector.LocalEndPoint endPoint;
  private final ByteBuffer request = ByteBuffer.wrap(REQUEST.getBytes(StandardCharsets.US_ASCII));
  private OpenTelemetrySdk otel;
  // Tracelet's variants export through it, so the set-up check can count their span.
  private final SpanBenchmark.DropExporter exporter = new SpanBenchmark.DropExporter();
  private Tracing braveTracing;
  private final CountingHandler braveSpans = new CountingHandler();

  @Setup(Level.Trial)
  public void start() throws Exception {
    if (filter.equals("tracelet")
        || filter.equals("traceletNoHeaders")
        || filter.equals("traceletNoTimeout")) {
      TraceletMdc.install();
    }
    server = new Server();
    LocalConnector connector = new LocalConnector(server);
    server.addConnector(connector);
    ServletContextHandler context = new ServletContextHandler("/");
    context.addServlet(new ServletHolder(new HelloServlet()), "/hello");
    Filter tracing = tracingFilter();
    if (tracing != null) {
      FilterHolder holder = new FilterHolder(tracing);
      holder.setAsyncSupported(true);
      context.addFilter(holder, "/*", EnumSet.of(DispatcherType.REQUEST, DispatcherType.ASYNC));
    }
    server.setHandler(context);
    server.start();
    endPoint = connector.connect();

    ByteBuffer response = send();
    HttpTester.Response parsed = HttpTester.parseResponse(response);
    if (parsed == null || parsed.getStatus() != 200 || !"hello".equals(parsed.getContent())) {
      throw new IllegalStateException("unexpected response with filter " + filter + ": " + parsed);
    }
    if (filter.startsWith("tracelet")) {
      // Proof that the set-up is the one the name claims: the span reached the exporter, and the
      // response headers are there exactly when they are on. The filter ends the span after the
      // answer has gone out; a second request on the same connection starts only once the first
      // request's handling, the filter's included, has returned.
      send();
      otel.getSdkTracerProvider().forceFlush().join(10, TimeUnit.SECONDS);
      boolean headersOn = !filter.equals("traceletNoHeaders") && !filter.equals("traceletBare");
      if (exporter.count() < 1 || (parsed.get("traceresponse") != null) != headersOn) {
        throw new IllegalStateException(
            "Tracelet's filter is not set up as "
                + filter
                + ": "
                + exporter.count()
                + " spans, "
                + parsed);
      }
    }
  }

  private Filter tracingFilter() {
    switch (filter) {
      case "none":
        return null;
      case "sameHeaders":
        return sameHeadersFilter();
      case "tracelet":
      case "traceletNoMdc":
        otel = sdk(exporter);
        return traceletFilter(otel);
      case "traceletNoHeaders":
        otel = sdk(exporter);
        return new TracingFilter(withoutResponseHeaders(traceletConfig(otel)).build());
      case "traceletNoTimeout":
        otel = sdk(exporter);
        return new TracingFilter(traceletConfig(otel).requestTimeout(null).build());
      case "traceletBare":
        otel = sdk(exporter);
        return new TracingFilter(bare(traceletConfig(otel)).build());
      case "opentelemetry":
        otel = sdk(new SpanBenchmark.DropExporter());
        return new MinimalOpenTelemetryFilter(otel);
      case "brave":
        braveTracing = braveTracing(braveSpans);
        return braveFilter(braveTracing);
      default:
        throw new IllegalArgumentException("unknown filter " + filter);
    }
  }

  /**
   * Tracelet's filter with everything on: a 30 s request timeout (a timer armed and cancelled per
   * request), generated and echoed request IDs, the default response headers. MDC correlation is
   * the caller's {@link TraceletMdc#install()}. Shared with the end-to-end server.
   */
  public static Filter traceletFilter(OpenTelemetry otel) {
    return new TracingFilter(traceletConfig(otel).build());
  }

  /**
   * The settings of {@link #traceletFilter}, still open, so the end-to-end server can switch one
   * feature off at a time and measure what it costs against exactly this set-up.
   */
  public static TracingConfig.Builder traceletConfig(OpenTelemetry otel) {
    return TracingConfig.builder().openTelemetry(otel).requestTimeout(Duration.ofSeconds(30));
  }

  /**
   * The {@code sameHeaders} control: no tracing, only the two response headers Tracelet writes,
   * with values of the same length; shared with the end-to-end server.
   */
  public static Filter sameHeadersFilter() {
    return new SameHeadersFilter();
  }

  /** {@code config} without the {@code X-Request-ID} and {@code traceresponse} response headers. */
  public static TracingConfig.Builder withoutResponseHeaders(TracingConfig.Builder config) {
    return config.responseRequestId(false).responseTraceResponse(false);
  }

  /**
   * {@code config} with the four optional features off (response headers, request timeout,
   * disconnect detection; MDC is the caller's): the trace context, the request ID and the server
   * span are left, the part a minimal OpenTelemetry filter does too.
   */
  public static TracingConfig.Builder bare(TracingConfig.Builder config) {
    return withoutResponseHeaders(config).requestTimeout(null).detectDisconnect(false);
  }

  /**
   * A {@link MinimalOpenTelemetryFilter} on {@code otel}: the floor for any filter on the
   * OpenTelemetry SDK; shared with the end-to-end server.
   */
  public static Filter openTelemetryFilter(OpenTelemetry otel) {
    return new MinimalOpenTelemetryFilter(otel);
  }

  /** Brave recording every span into {@code handler}; shared with the end-to-end server. */
  public static Tracing braveTracing(SpanHandler handler) {
    return Tracing.newBuilder().localServiceName("bench").addSpanHandler(handler).build();
  }

  /** Brave's servlet {@code TracingFilter} on {@code tracing}. */
  public static Filter braveFilter(Tracing tracing) {
    return brave.jakarta.servlet.TracingFilter.create(HttpTracing.create(tracing));
  }

  /** {@link #sdk(SpanExporter)} with an exporter that drops every batch. */
  static OpenTelemetrySdk sdk() {
    return sdk(new SpanBenchmark.DropExporter());
  }

  /**
   * The OpenTelemetry SDK every OpenTelemetry-based tracer is measured with: a batch span processor
   * (default settings) in front of {@code exporter}, W3C trace context and baggage propagation.
   */
  public static OpenTelemetrySdk sdk(SpanExporter exporter) {
    return OpenTelemetrySdk.builder()
        .setTracerProvider(
            SdkTracerProvider.builder()
                .addSpanProcessor(BatchSpanProcessor.builder(exporter).build())
                .build())
        .setPropagators(
            ContextPropagators.create(
                TextMapPropagator.composite(
                    W3CTraceContextPropagator.getInstance(), W3CBaggagePropagator.getInstance())))
        .build();
  }

  @TearDown(Level.Trial)
  public void stop() throws Exception {
    endPoint.close();
    server.stop();
    if (otel != null) {
      otel.close();
    }
    if (braveTracing != null) {
      if (braveSpans.count.sum() == 0) {
        throw new IllegalStateException("Brave recorded no span");
      }
      braveTracing.close();
    }
  }

  @Benchmark
  public ByteBuffer request() throws Exception {
    return send();
  }

  private ByteBuffer send() throws Exception {
    // The buffer was read to its end by the previous request: rewind it instead of allocating.
    request.rewind();
    endPoint.addInput(request);
    ByteBuffer response = endPoint.waitForResponse(false, 10, TimeUnit.SECONDS);
    if (response == null) {
      throw new IllegalStateException("no response within 10 s");
    }
    return response;
  }

  /** The application: a fixed body, as small as a servlet gets. */
  public static final class HelloServlet extends HttpServlet {
    private static final byte[] BODY = "hello".getBytes(StandardCharsets.US_ASCII);

    @Override
    protected void doGet(HttpServletRequest req, HttpServletResponse resp) throws IOException {
      resp.setContentType("text/plain");
      resp.setContentLength(BODY.length);
      resp.getOutputStream().write(BODY);
    }
  }

  /**
   * What a user would write on the OpenTelemetry SDK alone: extract W3C context, a SERVER span with
   * a few semantic-convention attributes, current while the chain runs, the status, end.
   */
  static final class MinimalOpenTelemetryFilter implements Filter {
    private static final TextMapGetter<HttpServletRequest> GETTER =
        new TextMapGetter<>() {
          @Override
          public Iterable<String> keys(HttpServletRequest carrier) {
            return Collections.list(carrier.getHeaderNames());
          }

          @Override
          public String get(HttpServletRequest carrier, String key) {
            return carrier == null ? null : carrier.getHeader(key);
          }
        };

    private final Tracer tracer;
    private final TextMapPropagator propagator;

    MinimalOpenTelemetryFilter(OpenTelemetry otel) {
      this.tracer = otel.getTracer("bench");
      this.propagator = otel.getPropagators().getTextMapPropagator();
    }

    @Override
    public void doFilter(ServletRequest req, ServletResponse res, FilterChain chain)
        throws IOException, ServletException {
      HttpServletRequest request = (HttpServletRequest) req;
      HttpServletResponse response = (HttpServletResponse) res;
      Context parent = propagator.extract(Context.root(), request, GETTER);
      String method = request.getMethod();
      Span span =
          tracer
              .spanBuilder(method)
              .setParent(parent)
              .setSpanKind(SpanKind.SERVER)
              .setAttribute(HttpAttributes.HTTP_REQUEST_METHOD, method)
              .setAttribute(UrlAttributes.URL_PATH, request.getRequestURI())
              .setAttribute(UrlAttributes.URL_SCHEME, request.getScheme())
              .startSpan();
      try (Scope ignored = span.makeCurrent()) {
        chain.doFilter(req, res);
      } catch (IOException | ServletException | RuntimeException | Error e) {
        span.recordException(e);
        span.setStatus(StatusCode.ERROR);
        throw e;
      } finally {
        int status = response.getStatus();
        span.setAttribute(HttpAttributes.HTTP_RESPONSE_STATUS_CODE, (long) status);
        if (status >= 500) {
          span.setStatus(StatusCode.ERROR);
        }
        span.end();
      }
    }
  }

  /** Writes constant response headers as long as Tracelet's, and nothing else. */
  static final class SameHeadersFilter implements Filter {
    @Override
    public void doFilter(ServletRequest req, ServletResponse res, FilterChain chain)
        throws IOException, ServletException {
      HttpServletResponse response = (HttpServletResponse) res;
      response.setHeader("X-Request-ID", "0123456789abcdef0123456789abcdef");
      response.setHeader(
          "traceresponse", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
      chain.doFilter(req, res);
    }
  }

  /** Brave's in-process equivalent of the dropping exporter: keeps the span recorded, counts it. */
  public static final class CountingHandler extends SpanHandler {
    final LongAdder count = new LongAdder();

    /** Spans ended so far. */
    public long count() {
      return count.sum();
    }

    @Override
    public boolean end(TraceContext context, MutableSpan span, Cause cause) {
      count.increment();
      return true;
    }
  }
}
