package io.tracelet.benchmarks.e2e;

import brave.Tracing;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.tracelet.benchmarks.ServerBenchmark;
import io.tracelet.logging.TraceletMdc;
import io.tracelet.servlet.TracingConfig;
import io.tracelet.servlet.TracingFilter;
import jakarta.servlet.DispatcherType;
import jakarta.servlet.Filter;
import java.util.EnumSet;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.eclipse.jetty.ee10.servlet.FilterHolder;
import org.eclipse.jetty.ee10.servlet.ServletContextHandler;
import org.eclipse.jetty.ee10.servlet.ServletHolder;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;

/**
 * The server of the end-to-end tier: {@link ServerBenchmark}'s hello-world servlet on Jetty 12
 * (ee10) behind a real TCP connector on 127.0.0.1, with one of the tracers of that benchmark in
 * front of it, set up the same way:
 *
 * <ul>
 *   <li>{@code none}: no filter. The OpenTelemetry Java agent variants run this mode with {@code
 *       -javaagent}, so the agent instruments the bare server.
 *   <li>{@code tracelet}: Tracelet's filter with everything on ({@link
 *       ServerBenchmark#traceletFilter}: a 30 s request timeout, disconnect detection, both
 *       response headers), MDC correlation installed, the OpenTelemetry SDK with the default batch
 *       span processor and {@link CountingDropExporter}.
 *   <li>{@code tracelet-no-disconnect}, {@code tracelet-no-timeout}, {@code tracelet-no-mdc},
 *       {@code tracelet-no-headers}: the same with one feature off ({@code
 *       detect-disconnect=false}; no request timeout; MDC correlation not installed; {@code
 *       response-request-id=false} and {@code response-traceresponse=false}), so a paired
 *       difference against {@code tracelet} prices that feature alone.
 *   <li>{@code tracelet-bare}: all four of those off at once, leaving the trace context, the
 *       request ID and the server span: against {@code otel-minimal}, Tracelet's core against the
 *       floor.
 *   <li>{@code otel-minimal}: the minimal filter written on the OpenTelemetry SDK alone ({@link
 *       ServerBenchmark#openTelemetryFilter}), on the same SDK set-up as Tracelet: the floor for a
 *       filter on this SDK.
 *   <li>{@code brave}: Brave's servlet {@code TracingFilter} with a counting span handler.
 *   <li>{@code same-headers}: no tracing, a filter writing the two response headers Tracelet
 *       writes, with values of the same lengths: what any filter pays Jetty for them.
 * </ul>
 *
 * <p>{@code java ... E2eServer MODE [PORT]} starts it (port 0 or absent: any free port), prints
 * {@code listening on http://127.0.0.1:PORT/hello} and runs until the JVM is stopped; on SIGTERM it
 * stops Jetty, flushes the tracer and prints {@code spans recorded: N}.
 */
public final class E2eServer implements AutoCloseable {

  /** The tracer in front of the servlet, named as {@code benchmarks/e2e.sh} names its variants. */
  public enum Mode {
    NONE("none", false),
    TRACELET("tracelet", true),
    BRAVE("brave", false),
    OTEL_MINIMAL("otel-minimal", false),
    TRACELET_NO_DISCONNECT("tracelet-no-disconnect", true),
    TRACELET_NO_TIMEOUT("tracelet-no-timeout", true),
    TRACELET_NO_MDC("tracelet-no-mdc", false),
    TRACELET_NO_HEADERS("tracelet-no-headers", true),
    TRACELET_BARE("tracelet-bare", false),
    SAME_HEADERS("same-headers", false);

    private final String key;
    private final boolean mdc;

    Mode(String key, boolean mdc) {
      this.key = key;
      this.mdc = mdc;
    }

    /** The name on the command line, for example {@code tracelet-no-mdc}. */
    public String key() {
      return key;
    }

    /** Every mode's name, comma-separated, in declaration order. */
    public static String keys() {
      return Stream.of(values()).map(Mode::key).collect(Collectors.joining(", "));
    }

    /**
     * The mode named {@code name}, exactly as {@link #key()} spells it.
     *
     * @throws IllegalArgumentException naming every accepted mode, if there is none by that name
     */
    public static Mode parse(String name) {
      for (Mode mode : values()) {
        if (mode.key.equals(name)) {
          return mode;
        }
      }
      throw new IllegalArgumentException("unknown mode '" + name + "': use one of " + keys());
    }
  }

  private final Server server;
  private final ServerConnector connector;
  private final OpenTelemetrySdk otel;
  private final CountingDropExporter exporter;
  private final Tracing braveTracing;
  private final ServerBenchmark.CountingHandler braveSpans;

  private E2eServer(Mode mode, int port) {
    server = new Server();
    connector = new ServerConnector(server);
    connector.setHost("127.0.0.1");
    connector.setPort(port);
    server.addConnector(connector);
    ServletContextHandler context = new ServletContextHandler("/");
    context.addServlet(new ServletHolder(new ServerBenchmark.HelloServlet()), "/hello");
    Filter filter = null;
    OpenTelemetrySdk sdk = null;
    CountingDropExporter dropExporter = null;
    Tracing tracing = null;
    ServerBenchmark.CountingHandler handler = null;
    switch (mode) {
      case NONE:
        break;
      case SAME_HEADERS:
        filter = ServerBenchmark.sameHeadersFilter();
        break;
      case BRAVE:
        handler = new ServerBenchmark.CountingHandler();
        tracing = ServerBenchmark.braveTracing(handler);
        filter = ServerBenchmark.braveFilter(tracing);
        break;
      case OTEL_MINIMAL:
        dropExporter = new CountingDropExporter();
        sdk = ServerBenchmark.sdk(dropExporter);
        filter = ServerBenchmark.openTelemetryFilter(sdk);
        break;
      default:
        dropExporter = new CountingDropExporter();
        sdk = ServerBenchmark.sdk(dropExporter);
        filter = new TracingFilter(traceletConfig(mode, sdk));
        break;
    }
    if (filter != null) {
      FilterHolder holder = new FilterHolder(filter);
      holder.setAsyncSupported(true);
      context.addFilter(holder, "/*", EnumSet.of(DispatcherType.REQUEST, DispatcherType.ASYNC));
    }
    server.setHandler(context);
    otel = sdk;
    exporter = dropExporter;
    braveTracing = tracing;
    braveSpans = handler;
  }

  /**
   * Tracelet's settings with everything on ({@link ServerBenchmark#traceletConfig}), less the one
   * feature a {@code tracelet-no-*} mode switches off, or all four in {@code tracelet-bare}. MDC is
   * not a filter setting: {@link #create} installs it or not.
   */
  private static TracingConfig traceletConfig(Mode mode, OpenTelemetrySdk sdk) {
    TracingConfig.Builder config = ServerBenchmark.traceletConfig(sdk);
    switch (mode) {
      case TRACELET_NO_DISCONNECT:
        config.set(TracingConfig.Setting.DETECT_DISCONNECT, "false");
        break;
      case TRACELET_NO_TIMEOUT:
        config.set(TracingConfig.Setting.REQUEST_TIMEOUT, "none");
        break;
      case TRACELET_NO_HEADERS:
        ServerBenchmark.withoutResponseHeaders(config);
        break;
      case TRACELET_BARE:
        ServerBenchmark.bare(config);
        break;
      default:
        break;
    }
    return config.build();
  }

  /**
   * A configured, unstarted server on 127.0.0.1:{@code port} (0: any free port). In {@code
   * tracelet} mode and every {@code tracelet-no-*} mode but {@code tracelet-no-mdc} (not {@code
   * tracelet-bare}) this installs Tracelet's MDC correlation for the whole JVM, as an application
   * would at start-up; it cannot be undone, so a JVM that installed it measures MDC in every later
   * server too.
   */
  public static E2eServer create(Mode mode, int port) {
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException("port must be 0..65535, was " + port);
    }
    if (mode.mdc) {
      TraceletMdc.install();
    }
    return new E2eServer(mode, port);
  }

  /** Starts Jetty; {@link #port()} is the bound port afterwards. */
  public void start() throws Exception {
    server.start();
  }

  /** The port the connector is bound to, once started. */
  public int port() {
    return connector.getLocalPort();
  }

  /** Spans the tracer has handed to its exporter or handler so far (0 in {@code none} mode). */
  public long spansRecorded() {
    if (exporter != null) {
      otel.getSdkTracerProvider().forceFlush().join(10, TimeUnit.SECONDS);
      return exporter.count();
    }
    return braveSpans == null ? 0 : braveSpans.count();
  }

  /** Stops Jetty, then flushes and closes the tracer (the exporter prints its span count). */
  @Override
  public void close() throws Exception {
    try {
      server.stop();
    } finally {
      if (otel != null) {
        otel.close();
      }
      if (braveTracing != null) {
        braveTracing.close();
        System.err.println("spans recorded: " + braveSpans.count());
      }
    }
  }

  public static void main(String[] args) throws Exception {
    if (args.length < 1 || args.length > 2) {
      System.err.println("usage: E2eServer MODE [port]; MODE is one of " + Mode.keys());
      System.exit(2);
    }
    Mode mode;
    try {
      mode = Mode.parse(args[0]);
    } catch (IllegalArgumentException e) {
      System.err.println("error: " + e.getMessage());
      System.exit(2);
      return;
    }
    E2eServer server = create(mode, args.length == 2 ? Integer.parseInt(args[1]) : 0);
    server.start();
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  try {
                    server.close();
                  } catch (Exception e) {
                    System.err.println("stopping the server failed: " + e);
                  }
                },
                "e2e-server-stop"));
    System.out.println("listening on http://127.0.0.1:" + server.port() + "/hello");
    System.out.flush();
    server.server.join();
  }
}
