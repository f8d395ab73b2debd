package io.tracelet.servlet;

import io.opentelemetry.api.baggage.propagation.W3CBaggagePropagator;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.propagation.ContextPropagators;
import io.opentelemetry.context.propagation.TextMapPropagator;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.metrics.SdkMeterProvider;
import io.opentelemetry.sdk.metrics.data.LongPointData;
import io.opentelemetry.sdk.metrics.data.MetricData;
import io.opentelemetry.sdk.testing.exporter.InMemoryMetricReader;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import io.opentelemetry.sdk.trace.samplers.Sampler;
import io.tracelet.servlet.internal.server.ServerTracing;
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
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.UnaryOperator;
import org.eclipse.jetty.ee10.servlet.FilterHolder;
import org.eclipse.jetty.ee10.servlet.ServletContextHandler;
import org.eclipse.jetty.ee10.servlet.ServletHolder;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;

/**
 * A real Jetty on 127.0.0.1:0 with the {@link TracingFilter} in front of {@link AppServlet}, a real
 * OpenTelemetry SDK of its own (spans to memory, metrics to an {@link InMemoryMetricReader}), plus
 * two test paths: {@code /inject} writes what the filter's {@link OutboundPropagator} injects for
 * an outbound call, and {@code /raw/*} names its route after the raw path (an application mistake).
 */
final class HostileServer implements AutoCloseable {

  final InMemorySpanExporter spans = InMemorySpanExporter.create();
  final InMemoryMetricReader metrics = InMemoryMetricReader.create();
  final OpenTelemetrySdk otel;
  final TracingFilter filter;
  final ThreadGuard threadGuard = new ThreadGuard();
  private final Server server;
  private final int port;

  private HostileServer(Sampler sampler, UnaryOperator<TracingConfig.Builder> config)
      throws Exception {
    otel =
        OpenTelemetrySdk.builder()
            .setTracerProvider(
                SdkTracerProvider.builder()
                    .setSampler(sampler)
                    .addSpanProcessor(SimpleSpanProcessor.create(spans))
                    .build())
            .setMeterProvider(SdkMeterProvider.builder().registerMetricReader(metrics).build())
            .setPropagators(
                ContextPropagators.create(
                    TextMapPropagator.composite(
                        W3CTraceContextPropagator.getInstance(),
                        W3CBaggagePropagator.getInstance())))
            .build();
    server = new Server();
    HttpConfiguration http = new HttpConfiguration();
    // Room for the 10 KB and 40 KB hostile values: they must reach the filter, not be refused by
    // Jetty's default 8 KiB limit.
    http.setRequestHeaderSize(64 * 1024);
    ServerConnector connector = new ServerConnector(server, new HttpConnectionFactory(http));
    connector.setHost("127.0.0.1");
    connector.setPort(0);
    server.addConnector(connector);
    ServletContextHandler context = new ServletContextHandler();
    context.setContextPath("/");
    filter =
        new TracingFilter(
            config
                .apply(
                    TracingConfig.builder()
                        .openTelemetry(otel)
                        .responseTraceId(true)
                        .responseServerTiming(true))
                .build());
    FilterHolder guard = new FilterHolder(threadGuard);
    guard.setAsyncSupported(true);
    context.addFilter(guard, "/*", EnumSet.of(DispatcherType.REQUEST));
    FilterHolder holder = new FilterHolder(filter);
    holder.setAsyncSupported(true);
    context.addFilter(holder, "/*", EnumSet.of(DispatcherType.REQUEST, DispatcherType.ASYNC));
    ServletHolder app = new ServletHolder(new AppServlet());
    app.setAsyncSupported(true);
    for (String mapping : AppServlet.MAPPINGS) {
      context.addServlet(app, mapping);
    }
    context.addServlet(new ServletHolder(new InjectServlet()), "/inject");
    context.addServlet(new ServletHolder(new RawRouteServlet()), "/raw/*");
    server.setHandler(context);
    server.start();
    port = connector.getLocalPort();
  }

  static HostileServer start(UnaryOperator<TracingConfig.Builder> config) throws Exception {
    return new HostileServer(Sampler.parentBased(Sampler.alwaysOn()), config);
  }

  static HostileServer start(Sampler sampler, UnaryOperator<TracingConfig.Builder> config)
      throws Exception {
    return new HostileServer(sampler, config);
  }

  int port() {
    return port;
  }

  RawHttp.Response get(String path, String... headerLines) throws IOException {
    return RawHttp.send(port, "GET", path, headerLines);
  }

  /** The finished server span of {@code requestId}, waiting (bounded) for it to end. */
  SpanData awaitSpan(String requestId) throws InterruptedException {
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (System.nanoTime() < end) {
      for (SpanData s : spans.getFinishedSpanItems()) {
        if (requestId.equals(s.getAttributes().get(ServerTracing.REQUEST_ID))) {
          return s;
        }
      }
      Thread.sleep(5);
    }
    throw new AssertionError("no span for request " + requestId);
  }

  /** The cumulative value of counter {@code name} for the point with {@code key=value}. */
  long counter(String name, String key, String value) {
    long sum = 0;
    for (MetricData m : metrics.collectAllMetrics()) {
      if (!m.getName().equals(name)) {
        continue;
      }
      for (LongPointData p : m.getLongSumData().getPoints()) {
        Attributes a = p.getAttributes();
        if (value.equals(a.get(AttributeKey.stringKey(key)))) {
          sum += p.getValue();
        }
      }
    }
    return sum;
  }

  long incoming(String outcome) {
    return counter("tracelet.server.incoming_context", "tracelet.outcome", outcome);
  }

  long rejected(String input) {
    return counter("tracelet.server.rejected_input", "tracelet.input", input);
  }

  long propagatorFailures(String operation) {
    return counter("tracelet.propagator.failures", "tracelet.operation", operation);
  }

  @Override
  public void close() throws Exception {
    server.stop();
    otel.close();
  }

  /**
   * Runs outside the tracing filter and checks the common rule of issue 7 on the pooled thread
   * itself: nothing escapes the filter, and the thread's context is the root context again.
   */
  static final class ThreadGuard implements Filter {
    final AtomicInteger requests = new AtomicInteger();
    final AtomicInteger dirty = new AtomicInteger();
    final AtomicInteger escaped = new AtomicInteger();

    @Override
    public void doFilter(ServletRequest request, ServletResponse response, FilterChain chain)
        throws IOException, ServletException {
      requests.incrementAndGet();
      try {
        chain.doFilter(request, response);
      } catch (IOException | ServletException | RuntimeException | Error e) {
        escaped.incrementAndGet();
        throw e;
      } finally {
        if (Context.current() != Context.root()) {
          dirty.incrementAndGet();
        }
      }
    }
  }

  /** Writes, one {@code name=value} line each, the headers injected for an outbound call. */
  static final class InjectServlet extends HttpServlet {
    @Override
    protected void doGet(HttpServletRequest req, HttpServletResponse resp) throws IOException {
      OutboundPropagator outbound =
          (OutboundPropagator)
              req.getServletContext().getAttribute(TracingFilter.OUTBOUND_PROPAGATOR_ATTRIBUTE);
      List<String[]> injected = new ArrayList<>();
      outbound.inject(Context.current(), injected, (c, k, v) -> c.add(new String[] {k, v}));
      TreeMap<String, String> byName = new TreeMap<>();
      for (String[] h : injected) {
        byName.merge(h[0], h[1], (a, b) -> a + "|" + b);
      }
      StringBuilder body = new StringBuilder();
      byName.forEach((k, v) -> body.append(k).append('=').append(v).append('\n'));
      byte[] bytes = body.toString().getBytes(StandardCharsets.UTF_8);
      resp.setContentType("text/plain");
      resp.setContentLength(bytes.length);
      resp.getOutputStream().write(bytes);
    }
  }

  /** Names its route after the raw path: one span name per URL unless the filter bounds them. */
  static final class RawRouteServlet extends HttpServlet {
    @Override
    protected void doGet(HttpServletRequest req, HttpServletResponse resp) throws IOException {
      TracingFilter.setRoute(req, req.getRequestURI());
      resp.setStatus(204);
    }
  }
}
