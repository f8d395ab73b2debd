package io.tracelet.benchmarks;

import brave.Tracing;
import brave.http.HttpTracing;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.Scope;
import io.opentelemetry.context.propagation.TextMapPropagator;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.tracelet.CancellableContext;
import io.tracelet.RequestId;
import io.tracelet.logging.TraceletMdc;
import io.tracelet.servlet.TracingConfig;
import io.tracelet.servlet.TracingFilter;
import io.tracelet.servlet.internal.container.DisconnectDetector;
import io.tracelet.servlet.internal.propagation.IncomingGetter;
import io.tracelet.servlet.internal.server.Exchange;
import io.tracelet.servlet.internal.server.HeaderSink;
import io.tracelet.servlet.internal.server.ServerTracing;
import io.tracelet.servlet.internal.settings.Settings;
import io.tracelet.servlet.jetty.JettyDisconnectDetector;
import jakarta.servlet.DispatcherType;
import jakarta.servlet.Filter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.eclipse.jetty.ee10.servlet.FilterHolder;
import org.eclipse.jetty.ee10.servlet.ServletContextHandler;
import org.eclipse.jetty.ee10.servlet.ServletHolder;
import org.eclipse.jetty.server.LocalConnector;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;

/**
 * An exact allocation breakdown of the filter, per request and per step, from the JVM's per-thread
 * allocation counters ({@code com.sun.management.ThreadMXBean}); it complements {@code
 * ServerBenchmark}'s {@code -prof gc} totals by saying where the bytes go. Allocation counts do not
 * depend on machine load, so the figures are exact on a busy machine once the JIT has settled.
 *
 * <p>Run: {@code java -cp <benchmarks class path> io.tracelet.benchmarks.AllocationBreakdown [mdc]}
 * (see {@code benchmarks/breakdown.sh}); with {@code mdc}, {@link TraceletMdc#install()} runs
 * first, so every scope also mirrors the context into logback's MDC.
 *
 * <ol>
 *   <li>The server as in {@code ServerBenchmark} (Jetty {@code LocalConnector}), bytes per request
 *       over all threads, for Tracelet's filter with single pieces switched off. For Tracelet, the
 *       bytes the filter allocates on the request thread outside the application (measured by
 *       filters around it) are split from what the rest of the process allocates for it (the batch
 *       span processor's thread, Jetty's extra response bytes).
 *   <li>The container-agnostic core alone, step by step on one thread, with the same headers.
 *   <li>The per-request costs that need a real Jetty request: header reads and the disconnect
 *       watch.
 *   <li>The servers of section 1 over loopback TCP, counting the server's threads only (the
 *       client's own parse of the response excluded), through the path a real connection takes; for
 *       Tracelet also its bytes on the request thread, split out as in section 1 (those move by a
 *       few bytes between runs at most, where the whole server's do by up to a few hundred).
 * </ol>
 */
public final class AllocationBreakdown {

  private static final com.sun.management.ThreadMXBean THREADS =
      (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

  private static final String TRACEPARENT =
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
  private static final int WARMUP = 60_000;
  private static final int MEASURED = 20_000;

  private static final HeaderSink DISCARD = (name, value) -> {};

  private AllocationBreakdown() {}

  public static void main(String[] args) throws Exception {
    boolean mdc = args.length > 0 && args[0].equals("mdc");
    if (mdc) {
      TraceletMdc.install();
    }
    System.out.printf("MDC correlation: %s%n%n", mdc ? "on" : "off");
    List<String> parts =
        args.length > 1 ? List.of(args[1].split(",")) : List.of("1", "2", "3", "4");
    if (parts.contains("1")) {
      servers();
    }
    if (parts.contains("4")) {
      overTcp();
    }
    if (parts.contains("2")) {
      core();
    }
    if (parts.contains("3")) {
      inJetty();
    }
  }

  // ---------------------------------------------------------------- 1. the server

  private static void servers() throws Exception {
    System.out.println("1. Server (LocalConnector), bytes per request, all threads");
    long none = server("none", null, null);
    report("none", none, none);
    report(
        "sameHeaders (control)",
        server("sameHeaders", new ServerBenchmark.SameHeadersFilter(), null),
        none);
    Map<String, TracingConfig.Builder> variants = new LinkedHashMap<>();
    variants.put("tracelet, everything on", base());
    variants.put("tracelet, no request timeout", base().requestTimeout(null));
    variants.put(
        "tracelet, no response headers",
        base().responseRequestId(false).responseTraceResponse(false));
    variants.put("tracelet, path excluded (no span)", base().excludedPaths("/hello"));
    for (Map.Entry<String, TracingConfig.Builder> v : variants.entrySet()) {
      OpenTelemetrySdk otel = ServerBenchmark.sdk();
      Inside inside = new Inside();
      long bytes =
          server(v.getKey(), new TracingFilter(v.getValue().openTelemetry(otel).build()), inside);
      report(v.getKey(), bytes, none);
      System.out.printf(
          "      of which the filter on the request thread, outside the servlet: %,d B%n",
          inside.filterBytes() / MEASURED);
      otel.close();
    }
    OpenTelemetrySdk otel = ServerBenchmark.sdk();
    report(
        "minimal OpenTelemetry filter",
        server("opentelemetry", new ServerBenchmark.MinimalOpenTelemetryFilter(otel), null),
        none);
    otel.close();
    ServerBenchmark.CountingHandler braveSpans = new ServerBenchmark.CountingHandler();
    Tracing braveTracing =
        Tracing.newBuilder().localServiceName("bench").addSpanHandler(braveSpans).build();
    report(
        "Brave servlet filter",
        server(
            "brave",
            brave.jakarta.servlet.TracingFilter.create(HttpTracing.create(braveTracing)),
            null),
        none);
    braveTracing.close();
    System.out.println();
  }

  // ---------------------------------------------------------------- 4. over loopback TCP

  /**
   * The same servers over loopback TCP (HTTP/1.1, one kept-alive connection), counting only the
   * server's threads: the client here reads the response with a byte scan of its own, and its
   * thread's bytes are subtracted, so a longer response does not count what a client's parser
   * allocates for it (in section 1 the in-process client's parse counts). It also takes the path a
   * real connection takes, such as the disconnect detector's read probe.
   */
  private static void overTcp() throws Exception {
    System.out.println(
        "4. Over loopback TCP (HTTP/1.1 keep-alive), bytes per request on the server's threads");
    long none = tcpServer(null);
    report("none", none, none);
    report("sameHeaders (control)", tcpServer(new ServerBenchmark.SameHeadersFilter()), none);
    Map<String, TracingConfig.Builder> variants = new LinkedHashMap<>();
    variants.put("tracelet, everything on", base());
    variants.put(
        "tracelet, no response headers",
        base().responseRequestId(false).responseTraceResponse(false));
    variants.put("tracelet, no disconnect detection", base().detectDisconnect(false));
    for (Map.Entry<String, TracingConfig.Builder> v : variants.entrySet()) {
      OpenTelemetrySdk otel = ServerBenchmark.sdk();
      Inside inside = new Inside();
      report(
          v.getKey(),
          tcpServer(new TracingFilter(v.getValue().openTelemetry(otel).build()), inside),
          none);
      System.out.printf(
          "      of which the filter on the request thread, outside the servlet: %,d B%n",
          inside.filterBytes() / MEASURED);
      otel.close();
    }
    OpenTelemetrySdk otel = ServerBenchmark.sdk();
    report(
        "minimal OpenTelemetry filter",
        tcpServer(new ServerBenchmark.MinimalOpenTelemetryFilter(otel)),
        none);
    otel.close();
    ServerBenchmark.CountingHandler braveSpans = new ServerBenchmark.CountingHandler();
    Tracing braveTracing =
        Tracing.newBuilder().localServiceName("bench").addSpanHandler(braveSpans).build();
    report(
        "Brave servlet filter",
        tcpServer(brave.jakarta.servlet.TracingFilter.create(HttpTracing.create(braveTracing))),
        none);
    braveTracing.close();
    // The watch alone, counted exactly on the request thread: over TCP it takes the read probe's
    // path, which the in-process connector of section 3 never does.
    DisconnectDetector detector = new JettyDisconnectDetector();
    Runnable nothing = () -> {};
    long[] watchBytes = new long[1];
    Filter watchOnly =
        (req, res, chain) -> {
          long t0 = currentThreadAllocated();
          detector.watch((HttpServletRequest) req, nothing).close();
          watchBytes[0] += currentThreadAllocated() - t0;
          chain.doFilter(req, res);
        };
    tcpServer(watchOnly);
    // The first run warmed it up; the second is counted.
    watchBytes[0] = 0;
    tcpServer(watchOnly);
    System.out.printf(
        "  %-56s %,6d B%n",
        "Jetty disconnect watch alone, request thread: watch + close",
        watchBytes[0] / (WARMUP + MEASURED));
    System.out.println();
  }

  private static long tcpServer(Filter filter) throws Exception {
    return tcpServer(filter, null);
  }

  /** Bytes per request on the server's threads, after warm-up; {@code inside} is reset then. */
  private static long tcpServer(Filter filter, Inside inside) throws Exception {
    Server server = new Server();
    ServerConnector connector = new ServerConnector(server);
    connector.setHost("127.0.0.1");
    connector.setPort(0);
    server.addConnector(connector);
    server.setHandler(helloContext(filter, inside));
    server.start();
    try (Socket socket = new Socket("127.0.0.1", connector.getLocalPort())) {
      socket.setTcpNoDelay(true);
      // A stalled server fails the run instead of hanging it.
      socket.setSoTimeout(10_000);
      OutputStream out = socket.getOutputStream();
      InputStream in = socket.getInputStream();
      byte[] request = ServerBenchmark.REQUEST.getBytes(StandardCharsets.US_ASCII);
      byte[] buffer = new byte[16 * 1024];
      for (int i = 0; i < WARMUP; i++) {
        exchange(out, in, request, buffer);
      }
      if (inside != null) {
        inside.reset();
      }
      long before = allThreadsAllocated();
      long clientBefore = currentThreadAllocated();
      for (int i = 0; i < MEASURED; i++) {
        exchange(out, in, request, buffer);
      }
      long client = currentThreadAllocated() - clientBefore;
      long after = allThreadsAllocated();
      return (after - before - client) / MEASURED;
    } finally {
      server.stop();
    }
  }

  /** The hello-world servlet behind {@code filter} (if any), with the {@code inside} filters. */
  private static ServletContextHandler helloContext(Filter filter, Inside inside) {
    ServletContextHandler context = new ServletContextHandler("/");
    context.addServlet(new ServletHolder(new ServerBenchmark.HelloServlet()), "/hello");
    EnumSet<DispatcherType> types = EnumSet.of(DispatcherType.REQUEST, DispatcherType.ASYNC);
    if (filter != null) {
      if (inside != null) {
        context.addFilter(new FilterHolder(inside.before), "/*", types);
      }
      FilterHolder holder = new FilterHolder(filter);
      holder.setAsyncSupported(true);
      context.addFilter(holder, "/*", types);
      if (inside != null) {
        context.addFilter(new FilterHolder(inside.after), "/*", types);
      }
    }
    return context;
  }

  /**
   * Sends one request and reads its response: the head up to the blank line, then the 5-byte body
   * of {@code HelloServlet} (its Content-Length), by scanning bytes, with no parser.
   */
  private static void exchange(OutputStream out, InputStream in, byte[] request, byte[] buffer)
      throws IOException {
    out.write(request);
    out.flush();
    int length = 0;
    int bodyStart = -1;
    while (bodyStart < 0 || length < bodyStart + 5) {
      int n = in.read(buffer, length, buffer.length - length);
      if (n < 0) {
        throw new IOException("connection closed after " + length + " bytes");
      }
      length += n;
      if (bodyStart < 0) {
        for (int i = 3; i < length; i++) {
          if (buffer[i] == '\n' && buffer[i - 1] == '\r' && buffer[i - 2] == '\n') {
            bodyStart = i + 1;
            break;
          }
        }
      }
    }
  }

  private static TracingConfig.Builder base() {
    return TracingConfig.builder().requestTimeout(Duration.ofSeconds(30));
  }

  private static void report(String name, long bytes, long none) {
    System.out.printf("  %-36s %,7d B  (%+,d B)%n", name, bytes, bytes - none);
  }

  /** Bytes per request over every thread, after warm-up; {@code inside} is reset after warm-up. */
  private static long server(String name, Filter filter, Inside inside) throws Exception {
    Server server = new Server();
    LocalConnector connector = new LocalConnector(server);
    server.addConnector(connector);
    server.setHandler(helloContext(filter, inside));
    server.start();
    try {
      LocalConnector.LocalEndPoint endPoint = connector.connect();
      ByteBuffer request =
          ByteBuffer.wrap(ServerBenchmark.REQUEST.getBytes(StandardCharsets.US_ASCII));
      for (int i = 0; i < WARMUP; i++) {
        send(endPoint, request);
      }
      if (inside != null) {
        inside.reset();
      }
      long before = allThreadsAllocated();
      for (int i = 0; i < MEASURED; i++) {
        send(endPoint, request);
      }
      long after = allThreadsAllocated();
      endPoint.close();
      return (after - before) / MEASURED;
    } finally {
      server.stop();
    }
  }

  private static void send(LocalConnector.LocalEndPoint endPoint, ByteBuffer request)
      throws Exception {
    request.rewind();
    endPoint.addInput(request);
    if (endPoint.waitForResponse(false, 10, TimeUnit.SECONDS) == null) {
      throw new IllegalStateException("no response within 10 s");
    }
  }

  /**
   * Threads come and go (Jetty's pool); a thread that ended in between loses its bytes, so the
   * counts are taken over many requests and the pool is warm by then.
   */
  private static long allThreadsAllocated() {
    long sum = 0;
    for (long b : THREADS.getThreadAllocatedBytes(THREADS.getAllThreadIds())) {
      if (b > 0) {
        sum += b;
      }
    }
    return sum;
  }

  private static long currentThreadAllocated() {
    return THREADS.getCurrentThreadAllocatedBytes();
  }

  /**
   * Two filters around the tracing filter: the first notes the request thread's counter on the way
   * in and out, the second subtracts what the servlet (and Jetty below it) allocate.
   */
  private static final class Inside {
    private long total;
    private long chain;
    private final ThreadLocal<long[]> start = ThreadLocal.withInitial(() -> new long[1]);

    final Filter before =
        new Filter() {
          @Override
          public void doFilter(ServletRequest req, ServletResponse res, FilterChain next)
              throws IOException, ServletException {
            long t0 = currentThreadAllocated();
            next.doFilter(req, res);
            long t1 = currentThreadAllocated();
            synchronized (Inside.this) {
              total += t1 - t0;
            }
          }
        };

    final Filter after =
        new Filter() {
          @Override
          public void doFilter(ServletRequest req, ServletResponse res, FilterChain next)
              throws IOException, ServletException {
            long t0 = currentThreadAllocated();
            next.doFilter(req, res);
            long t1 = currentThreadAllocated();
            synchronized (Inside.this) {
              chain += t1 - t0;
            }
          }
        };

    synchronized void reset() {
      total = 0;
      chain = 0;
    }

    synchronized long filterBytes() {
      return total - chain;
    }
  }

  // ---------------------------------------------------------------- 3. inside a Jetty request

  private static void inJetty() throws Exception {
    System.out.println("3. Inside a real Jetty request, bytes per request on the request thread");
    Map<String, Consumer<HttpServletRequest>> steps = new LinkedHashMap<>();
    steps.put("getHeader(\"traceparent\")", r -> r.getHeader("traceparent"));
    steps.put(
        "getHeaders(\"traceparent\"): enumeration read to its end",
        r -> {
          var e = r.getHeaders("traceparent");
          while (e.hasMoreElements()) {
            e.nextElement();
          }
        });
    steps.put("getHeader(\"baggage\") (absent)", r -> r.getHeader("baggage"));
    steps.put(
        "setAttribute + removeAttribute",
        r -> {
          r.setAttribute("io.tracelet.breakdown", r);
          r.removeAttribute("io.tracelet.breakdown");
        });
    steps.put(
        "getMethod, getRequestURI, getQueryString, getScheme",
        r -> {
          r.getMethod();
          r.getRequestURI();
          r.getQueryString();
          r.getScheme();
        });
    steps.put(
        "getServerName + getServerPort",
        r -> {
          r.getServerName();
          r.getServerPort();
        });
    steps.put("getRemoteAddr", HttpServletRequest::getRemoteAddr);
    steps.put(
        "getServletPath, getPathInfo, getContextPath",
        r -> {
          r.getServletPath();
          r.getPathInfo();
          r.getContextPath();
        });
    steps.put("getHttpServletMapping + getPattern", r -> r.getHttpServletMapping().getPattern());
    steps.put(
        "getAttribute (absent) + getDispatcherType",
        r -> {
          r.getAttribute("io.tracelet.absent");
          r.getDispatcherType();
        });
    DisconnectDetector detector = new JettyDisconnectDetector();
    Runnable nothing = () -> {};
    steps.put("Jetty disconnect watch: watch + close", r -> detector.watch(r, nothing).close());
    long[] bytes = new long[steps.size() + 1];
    Filter probe =
        (req, res, chain) -> {
          HttpServletRequest request = (HttpServletRequest) req;
          int i = 0;
          for (Consumer<HttpServletRequest> step : steps.values()) {
            long t0 = currentThreadAllocated();
            step.accept(request);
            bytes[i++] += currentThreadAllocated() - t0;
          }
          HttpServletResponse response = (HttpServletResponse) res;
          long t0 = currentThreadAllocated();
          response.setHeader("X-Request-ID", "0123456789abcdef0123456789abcdef");
          response.setHeader("traceresponse", TRACEPARENT);
          bytes[i] += currentThreadAllocated() - t0;
          chain.doFilter(req, res);
        };
    Inside reset = new Inside();
    server("probe", probe, reset);
    // server() ran WARMUP + MEASURED requests; the first ones ran interpreted.
    java.util.Arrays.fill(bytes, 0);
    server("probe", probe, null);
    int i = 0;
    for (String name : steps.keySet()) {
      System.out.printf("  %-56s %,6d B%n", name, bytes[i++] / (WARMUP + MEASURED));
    }
    System.out.printf(
        "  %-56s %,6d B%n", "response.setHeader, the two headers", bytes[i] / (WARMUP + MEASURED));
  }

  // ---------------------------------------------------------------- 2. the core alone

  private static void core() {
    System.out.println("2. The core alone, bytes per request on the calling thread");
    OpenTelemetrySdk otel = ServerBenchmark.sdk();
    TextMapPropagator propagator = otel.getPropagators().getTextMapPropagator();
    Settings settings =
        Settings.resolve(
            TracingConfig.builder().requestTimeout(Duration.ofSeconds(30)).build(),
            n -> null,
            n -> null,
            n -> null);
    ServerTracing core = new ServerTracing(settings, otel, propagator);
    FixedHeaders headers = new FixedHeaders("Host", "localhost", "traceparent", TRACEPARENT);
    Span remote =
        Span.fromContext(propagator.extract(Context.root(), headers, IncomingGetter.INSTANCE));
    var tracer = otel.getTracer("breakdown");

    Map<String, Runnable> steps = new LinkedHashMap<>();
    steps.put(
        "extract (W3C trace context + baggage, IncomingGetter)",
        () -> propagator.extract(Context.root(), headers, IncomingGetter.INSTANCE));
    steps.put("RequestId.generate()", RequestId::generate);
    steps.put(
        "span with Tracelet's 8 attributes: start + end",
        () ->
            tracer
                .spanBuilder("GET /hello")
                .setParent(Context.root().with(remote))
                .setSpanKind(SpanKind.SERVER)
                .setAttribute("http.request.method", "GET")
                .setAttribute("url.path", "/hello")
                .setAttribute("url.scheme", "http")
                .setAttribute("server.address", "localhost")
                .setAttribute("server.port", 80L)
                .setAttribute("client.address", "0.0.0.0")
                .setAttribute("tracelet.request_id", "0123456789abcdef0123456789abcdef")
                .setAttribute("http.route", "/hello")
                .startSpan()
                .end());
    steps.put(
        "CancellableContext.withTimeout(30 s) + close",
        () -> CancellableContext.withTimeout(Context.root(), Duration.ofSeconds(30)).close());
    steps.put(
        "ServerTracing.begin + end (all of the above, response headers to a sink)",
        () -> core.end(core.begin(headers, DISCARD), 200, null, true, null));
    Exchange held = core.start(headers, null);
    steps.put(
        "makeCurrent + close of the request context",
        () -> {
          try (Scope ignored = held.context().makeCurrent()) {
            // only the scope
          }
        });
    steps.put(
        "response headers: names and values handed to a sink",
        () -> core.writeResponseHeaders(held, DISCARD));
    for (Map.Entry<String, Runnable> step : steps.entrySet()) {
      System.out.printf("  %-56s %,6d B%n", step.getKey(), perCall(step.getValue()));
    }
    core.end(held, 200, null, true, null);
    otel.close();
    System.out.println();
  }

  /** Bytes per call on this thread, after a warm-up long enough for escape analysis. */
  static long perCall(Runnable step) {
    for (int i = 0; i < WARMUP; i++) {
      step.run();
    }
    long before = currentThreadAllocated();
    for (int i = 0; i < MEASURED; i++) {
      step.run();
    }
    return (currentThreadAllocated() - before) / MEASURED;
  }
}
