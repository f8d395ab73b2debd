package io.tracelet.example;

import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.autoconfigure.AutoConfiguredOpenTelemetrySdk;
import io.tracelet.http.ContextHttpClient;
import io.tracelet.logging.TraceletMdc;
import io.tracelet.sdk.SpanLog;
import io.tracelet.sdk.TraceletOpenTelemetry;
import io.tracelet.servlet.TracingConfig;
import io.tracelet.servlet.TracingFilter;
import io.tracelet.trace.Spans;
import jakarta.servlet.DispatcherType;
import java.net.URI;
import java.net.http.HttpClient;
import java.time.Duration;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import org.eclipse.jetty.ee10.servlet.FilterHolder;
import org.eclipse.jetty.ee10.servlet.ServletContextHandler;
import org.eclipse.jetty.ee10.servlet.ServletHolder;
import org.eclipse.jetty.http2.server.HTTP2CServerConnectionFactory;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Tracelet reference app: an order service on embedded Jetty 12 with the {@link TracingFilter},
 * and a second service, "payments", that the order service calls over HTTP, so one trace crosses
 * two services.
 *
 * <pre>{@code
 * try (ExampleApp app = ExampleApp.start(ExampleApp.Options.fromEnvironment())) {
 *   app.awaitStop();
 * } // stops both servers, then flushes the spans
 * }</pre>
 *
 * <p>Zero configuration: spans go to the log (span log and request span tree on). {@code
 * OTEL_TRACES_EXPORTER=otlp} with the usual {@code OTEL_EXPORTER_OTLP_*} variables sends them to
 * Jaeger or any OpenTelemetry collector as well.
 */
public final class ExampleApp implements AutoCloseable {

  /** The service name of the order service unless {@code OTEL_SERVICE_NAME} says otherwise. */
  public static final String SERVICE_NAME = "tracelet-example";

  /** The service name of the payments service. */
  public static final String PAYMENTS_SERVICE_NAME = "payments";

  /** The database the example uses when run from {@link #main}. */
  public static final String DATABASE_URL = "jdbc:h2:mem:example;DB_CLOSE_DELAY=-1";

  private static final Logger log = LoggerFactory.getLogger(ExampleApp.class);

  private static final Duration SLOW_QUERY_TIME = Duration.ofMillis(500);
  private static final Duration FLUSH_TIMEOUT = Duration.ofSeconds(5);

  /**
   * Where and how the example runs.
   *
   * @param host the address both servers listen on
   * @param port the order service's port (0 for any free one)
   * @param paymentsPort the payments service's port (0 for any free one)
   * @param databaseUrl the H2 JDBC URL of the store
   * @param otelProperties OpenTelemetry and Tracelet settings that override the environment (e.g.
   *     {@code otel.traces.exporter}); empty for none
   */
  public record Options(
      String host,
      int port,
      int paymentsPort,
      String databaseUrl,
      Map<String, String> otelProperties) {

    public Options {
      Objects.requireNonNull(host, "host");
      Objects.requireNonNull(databaseUrl, "databaseUrl");
      otelProperties = Map.copyOf(otelProperties);
      if (port < 0 || port > 65535 || paymentsPort < 0 || paymentsPort > 65535) {
        throw new IllegalArgumentException(
            "ports must be between 0 and 65535; got " + port + " and " + paymentsPort);
      }
    }

    /**
     * {@code HOST} (default 127.0.0.1), {@code PORT} (8080) and {@code PAYMENTS_PORT} (8081) from
     * the environment.
     */
    public static Options fromEnvironment() {
      return new Options(
          env("HOST", "127.0.0.1"),
          port("PORT", 8080),
          port("PAYMENTS_PORT", 8081),
          DATABASE_URL,
          Map.of());
    }

    private static String env(String name, String fallback) {
      String value = System.getenv(name);
      return value == null || value.isBlank() ? fallback : value.trim();
    }

    private static int port(String name, int fallback) {
      String value = env(name, Integer.toString(fallback));
      try {
        return Integer.parseInt(value);
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException(
            name
                + " must be a port number (0-65535); got '"
                + value.replaceAll("\\p{Cntrl}", "?")
                + "'",
            e);
      }
    }
  }

  private final TraceletOpenTelemetry otel;
  private final OpenTelemetrySdk paymentsOtel;
  private final TaskStore store;
  private final Server payments;
  private final Server server;
  private boolean closed;

  private ExampleApp(
      TraceletOpenTelemetry otel,
      OpenTelemetrySdk paymentsOtel,
      TaskStore store,
      Server payments,
      Server server) {
    this.otel = otel;
    this.paymentsOtel = paymentsOtel;
    this.store = store;
    this.payments = payments;
    this.server = server;
  }

  /** Runs the example until Ctrl-C; see the class documentation for the settings. */
  public static void main(String[] args) throws Exception {
    TraceletMdc.install(); // before anything uses a Context: the storage is fixed on first use
    ExampleApp app = start(Options.fromEnvironment());
    Runtime.getRuntime().addShutdownHook(new Thread(app::close, "example-shutdown"));
    log.info(
        "example listening on http://{}:{} (HTTP/1.1 and h2c), payments on http://{}:{}",
        app.host(),
        app.port(),
        app.host(),
        app.paymentsPort());
    log.info("try: curl -i http://{}:{}/order", app.host(), app.port());
    app.awaitStop();
  }

  /** Sets up OpenTelemetry, opens the store and starts both services. */
  public static ExampleApp start(Options options) throws Exception {
    TraceletOpenTelemetry otel = mainOpenTelemetry(options.otelProperties());
    OpenTelemetrySdk paymentsOtel = null;
    TaskStore store = null;
    Server payments = null;
    try {
      paymentsOtel = paymentsOpenTelemetry(options.otelProperties());
      store = TaskStore.open(options.databaseUrl(), SLOW_QUERY_TIME);
      payments = createPaymentsServer(options.host(), options.paymentsPort(), paymentsOtel);
      payments.start();
      URI paymentsUri = URI.create("http://" + options.host() + ":" + localPort(payments) + "/");
      Server server =
          createServer(options.host(), options.port(), otel.openTelemetry(), store, paymentsUri);
      server.start();
      return new ExampleApp(otel, paymentsOtel, store, payments, server);
    } catch (Exception | Error e) {
      if (payments != null) {
        payments.stop();
      }
      if (store != null) {
        store.close();
      }
      if (paymentsOtel != null) {
        paymentsOtel.shutdown().join(FLUSH_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
      }
      otel.close();
      throw e;
    }
  }

  /**
   * The order service: a configured, unstarted Jetty with HTTP/1.1 and h2c on one connector, the
   * {@link TracingFilter} and the routes {@code /order}, {@code /slow}, {@code /slow-store}, {@code
   * /tasks/{id}} and {@code /trace}.
   */
  public static Server createServer(
      String host, int port, OpenTelemetry openTelemetry, TaskStore store, URI paymentsUri) {
    Spans spans = Spans.create(openTelemetry);
    HttpClient client =
        ContextHttpClient.builder(HttpClient.newHttpClient())
            .setOpenTelemetry(openTelemetry)
            .enableDeadlineHeader()
            .build();
    Server server = newServer(host, port);
    ServletContextHandler context = tracedContext(openTelemetry);
    context.addServlet(
        new ServletHolder(new OrderServlet(spans, client, paymentsUri, store)), "/order");
    context.addServlet(new ServletHolder(new SlowServlet()), "/slow");
    context.addServlet(new ServletHolder(new SlowStoreServlet(spans, store)), "/slow-store");
    context.addServlet(new ServletHolder(new TasksServlet(spans, store)), "/tasks/*");
    context.addServlet(new ServletHolder(new TraceServlet()), "/trace");
    server.setHandler(context);
    return server;
  }

  /** The payments service: a configured, unstarted Jetty answering {@code POST /charge}. */
  public static Server createPaymentsServer(String host, int port, OpenTelemetry openTelemetry) {
    Server server = newServer(host, port);
    ServletContextHandler context = tracedContext(openTelemetry);
    context.addServlet(
        new ServletHolder(new PaymentsServlet(Spans.create(openTelemetry))), "/charge");
    server.setHandler(context);
    return server;
  }

  /** The address both services listen on. */
  public String host() {
    return ((ServerConnector) server.getConnectors()[0]).getHost();
  }

  /** The order service's port. */
  public int port() {
    return localPort(server);
  }

  /** The payments service's port. */
  public int paymentsPort() {
    return localPort(payments);
  }

  /** The order service's OpenTelemetry. */
  public OpenTelemetry openTelemetry() {
    return otel.openTelemetry();
  }

  /** Blocks until the order service has stopped. */
  public void awaitStop() throws InterruptedException {
    server.join();
  }

  /**
   * Stops both services (requests in flight get a few seconds to finish), closes the store, and
   * flushes and shuts down OpenTelemetry, in that order so the last requests' spans are exported.
   */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    stop(server);
    stop(payments);
    store.close();
    paymentsOtel.shutdown().join(FLUSH_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
    otel.close();
    log.info("example stopped, spans flushed");
  }

  /** The store, for tests. */
  TaskStore store() {
    return store;
  }

  private static void stop(Server s) {
    try {
      s.stop();
    } catch (Exception e) {
      log.warn("could not stop a server cleanly: {}", e.toString());
    }
  }

  private static Server newServer(String host, int port) {
    Server server = new Server();
    HttpConfiguration config = new HttpConfiguration();
    config.setSendServerVersion(false);
    // HTTP/1.1 and HTTP/2 cleartext (prior knowledge or Upgrade: h2c) on the same port.
    ServerConnector connector =
        new ServerConnector(
            server, new HttpConnectionFactory(config), new HTTP2CServerConnectionFactory(config));
    connector.setHost(host);
    connector.setPort(port);
    server.addConnector(connector);
    server.setStopTimeout(5_000);
    return server;
  }

  private static ServletContextHandler tracedContext(OpenTelemetry openTelemetry) {
    ServletContextHandler context = new ServletContextHandler();
    context.setContextPath("/");
    FilterHolder filter =
        new FilterHolder(
            new TracingFilter(TracingConfig.builder().openTelemetry(openTelemetry).build()));
    filter.setAsyncSupported(true);
    context.addFilter(filter, "/*", EnumSet.of(DispatcherType.REQUEST, DispatcherType.ASYNC));
    return context;
  }

  private static int localPort(Server s) {
    return ((ServerConnector) s.getConnectors()[0]).getLocalPort();
  }

  private static TraceletOpenTelemetry mainOpenTelemetry(Map<String, String> properties) {
    TraceletOpenTelemetry.Builder builder =
        TraceletOpenTelemetry.builder().setShutdownHook(false).setCloseTimeout(FLUSH_TIMEOUT);
    // The example's defaults, which the environment and the given properties still override.
    Map<String, String> settings = new HashMap<>();
    if (!isConfigured(TraceletOpenTelemetry.SPAN_TREE_PROPERTY)) {
      settings.put(TraceletOpenTelemetry.SPAN_TREE_PROPERTY, "true");
    }
    if (!isConfigured("otel.service.name")) {
      settings.put("otel.service.name", SERVICE_NAME);
    }
    // The OTLP protocol default (http/protobuf) comes from TraceletOpenTelemetry itself.
    settings.putAll(properties);
    settings.forEach(builder::setProperty);
    return builder.initialize();
  }

  /**
   * The payments service's own SDK: the same exporter settings as the order service, its own
   * service name, not registered as the global OpenTelemetry (a real second service would be a
   * second process).
   */
  private static OpenTelemetrySdk paymentsOpenTelemetry(Map<String, String> properties) {
    Map<String, String> overrides = new HashMap<>(exporterDefaults());
    overrides.putAll(properties);
    overrides.put("otel.service.name", PAYMENTS_SERVICE_NAME);
    return AutoConfiguredOpenTelemetrySdk.builder()
        .addPropertiesSupplier(
            () ->
                Map.of(
                    "otel.traces.exporter", "none",
                    "otel.metrics.exporter", "none",
                    "otel.logs.exporter", "none"))
        .addPropertiesCustomizer(config -> overrides)
        .addTracerProviderCustomizer(
            (tracerProvider, config) ->
                tracerProvider.addSpanProcessor(
                    SpanLog.create(
                        SpanLog.Mode.parse(
                            config.getString(TraceletOpenTelemetry.SPAN_LOG_PROPERTY, "end")))))
        .disableShutdownHook()
        .build()
        .getOpenTelemetrySdk();
  }

  /**
   * OTLP over http/protobuf (port 4318), the protocol the OpenTelemetry specification names as the
   * default, unless the environment chooses one: OpenTelemetry Java's autoconfigure still defaults
   * to grpc, which fails against {@code OTEL_EXPORTER_OTLP_ENDPOINT=http://localhost:4318}.
   */
  private static Map<String, String> exporterDefaults() {
    if (isConfigured("otel.exporter.otlp.protocol")
        || isConfigured("otel.exporter.otlp.traces.protocol")) {
      return Map.of();
    }
    return Map.of("otel.exporter.otlp.protocol", "http/protobuf");
  }

  // Set as a system property or as the matching environment variable (a.b.c -> A_B_C).
  private static boolean isConfigured(String property) {
    String env = property.toUpperCase(java.util.Locale.ROOT).replace('.', '_');
    return System.getProperty(property) != null || System.getenv(env) != null;
  }
}
