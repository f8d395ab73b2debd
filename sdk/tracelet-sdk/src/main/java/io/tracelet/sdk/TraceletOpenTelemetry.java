package io.tracelet.sdk;

import io.opentelemetry.api.GlobalOpenTelemetry;
import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.context.Context;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.autoconfigure.AutoConfiguredOpenTelemetrySdk;
import io.opentelemetry.sdk.autoconfigure.spi.ConfigProperties;
import io.opentelemetry.sdk.autoconfigure.spi.ConfigurationException;
import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.trace.ReadWriteSpan;
import io.opentelemetry.sdk.trace.ReadableSpan;
import io.opentelemetry.sdk.trace.SdkTracerProviderBuilder;
import io.opentelemetry.sdk.trace.SpanProcessor;
import io.tracelet.logging.TraceletMdc;
import java.net.URI;
import java.net.URISyntaxException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sets up OpenTelemetry for an application in one call: an SDK from the standard OpenTelemetry
 * configuration (environment variables and system properties, through the autoconfigure module),
 * plus Tracelet's {@link SpanLog}, optionally the {@link SpanTree}, and MDC correlation; registered
 * as {@link GlobalOpenTelemetry}.
 *
 * <pre>{@code
 * try (TraceletOpenTelemetry otel = TraceletOpenTelemetry.initialize()) {
 *   runServer(otel.openTelemetry());
 * } // flushes pending spans, bounded by the close timeout
 * }</pre>
 *
 * <p>Without any configuration, no exporter is used (traces, metrics and logs exporters default to
 * {@code none}) and spans only reach the span log; if only an OTLP endpoint is configured ({@code
 * OTEL_EXPORTER_OTLP_ENDPOINT} or {@code OTEL_EXPORTER_OTLP_TRACES_ENDPOINT}), traces are exported
 * with OTLP, as OpenTelemetry's own default would. One INFO line at start-up says where spans go.
 * {@code OTEL_TRACES_EXPORTER=otlp} sends them to {@code OTEL_EXPORTER_OTLP_ENDPOINT} over {@code
 * http/protobuf} (port 4318, the default) or {@code grpc} (4317). Tracelet's own settings, from
 * environment or system properties:
 *
 * <ul>
 *   <li>{@code TRACELET_SPAN_LOG} / {@code tracelet.span.log}: {@code off}, {@code end} (default)
 *       or {@code start-and-end}.
 *   <li>{@code TRACELET_SPAN_TREE} / {@code tracelet.span.tree}: {@code true} or {@code false}
 *       (default).
 *   <li>{@code TRACELET_SPAN_TREE_MAX_SPANS} / {@code tracelet.span.tree.max.spans}: default 256.
 * </ul>
 *
 * Invalid values fail {@code initialize()} with a {@link ConfigurationException} naming the
 * setting.
 *
 * <p>If a global OpenTelemetry is already set (the OpenTelemetry Java agent, or an earlier call),
 * it is used as is and nothing is added: {@link #isOwned()} is then false and {@link #close()}
 * leaves it alone.
 */
public final class TraceletOpenTelemetry implements AutoCloseable {

  /** Setting for the span log mode. */
  public static final String SPAN_LOG_PROPERTY = "tracelet.span.log";

  /** Setting that turns the span tree on. */
  public static final String SPAN_TREE_PROPERTY = "tracelet.span.tree";

  /** Setting for the span tree's per-request span limit. */
  public static final String SPAN_TREE_MAX_SPANS_PROPERTY = "tracelet.span.tree.max.spans";

  private static final Logger logger = LoggerFactory.getLogger(TraceletOpenTelemetry.class);

  private final OpenTelemetry openTelemetry;
  private final OpenTelemetrySdk sdk; // null when not owned
  private final Duration closeTimeout;
  private final Thread shutdownHook; // null when not owned or not wanted
  private final SpanLoss spanLoss; // null when not owned
  private boolean closed;

  private TraceletOpenTelemetry(
      OpenTelemetry openTelemetry,
      OpenTelemetrySdk sdk,
      Duration closeTimeout,
      Thread hook,
      SpanLoss spanLoss) {
    this.openTelemetry = openTelemetry;
    this.sdk = sdk;
    this.closeTimeout = closeTimeout;
    this.shutdownHook = hook;
    this.spanLoss = spanLoss;
  }

  /** Sets up OpenTelemetry with the defaults; see the class documentation. */
  public static TraceletOpenTelemetry initialize() {
    return builder().initialize();
  }

  /** A builder to change the defaults, e.g. in tests. */
  public static Builder builder() {
    return new Builder();
  }

  /** The OpenTelemetry in use: the one built here, or the global one that already existed. */
  public OpenTelemetry openTelemetry() {
    return openTelemetry;
  }

  /** Whether this handle built the SDK (and its {@link #close()} shuts it down). */
  public boolean isOwned() {
    return sdk != null;
  }

  /**
   * Flushes pending spans and shuts the SDK down, waiting at most the close timeout; idempotent. A
   * global OpenTelemetry that this handle did not build is left alone. The global stays registered
   * (OpenTelemetry allows setting it only once), so spans started afterwards are dropped.
   */
  @Override
  public synchronized void close() {
    if (closed || sdk == null) {
      closed = true;
      return;
    }
    closed = true;
    if (shutdownHook != null) {
      try {
        Runtime.getRuntime().removeShutdownHook(shutdownHook);
      } catch (IllegalStateException jvmShuttingDown) {
        // The hook is running or about to run: it does the same bounded shutdown.
      }
    }
    shutdown(sdk, closeTimeout, spanLoss);
  }

  /**
   * Counts and reports spans lost on their way out; null when this handle did not build the SDK.
   */
  SpanLoss spanLoss() {
    return spanLoss;
  }

  private static void shutdown(OpenTelemetrySdk sdk, Duration timeout, SpanLoss loss) {
    CompletableResultCode result = sdk.shutdown().join(timeout.toMillis(), TimeUnit.MILLISECONDS);
    if (!result.isSuccess()) {
      logger.warn(
          "OpenTelemetry did not shut down cleanly within {} ms; pending spans may be lost",
          timeout.toMillis());
    }
    // The last spans are flushed at shutdown: say now what was lost since the last WARN.
    loss.reportRemaining();
  }

  /** Options for {@link TraceletOpenTelemetry}; each has a default fit for production. */
  public static final class Builder {
    private final Map<String, String> properties = new HashMap<>();
    private Duration closeTimeout = Duration.ofSeconds(5);
    private boolean shutdownHook = true;
    private LongSupplier nanoClock = System::nanoTime;

    private Builder() {}

    /** The clock of the once-a-minute span-loss WARN; tests set a fake one. */
    Builder setClock(LongSupplier nanoClock) {
      this.nanoClock = Objects.requireNonNull(nanoClock, "nanoClock");
      return this;
    }

    /**
     * Sets a configuration property (an OpenTelemetry one such as {@code otel.traces.exporter} or a
     * Tracelet one), overriding environment variables and system properties.
     */
    public Builder setProperty(String name, String value) {
      properties.put(Objects.requireNonNull(name, "name"), Objects.requireNonNull(value, "value"));
      return this;
    }

    /** How long closing (or the JVM shutdown hook) waits for pending spans (default 5 s). */
    public Builder setCloseTimeout(Duration timeout) {
      if (timeout == null || timeout.isNegative() || timeout.isZero()) {
        throw new IllegalArgumentException("closeTimeout must be a positive duration");
      }
      this.closeTimeout = timeout;
      return this;
    }

    /** Whether to flush on JVM shutdown if the handle was not closed (default true). */
    public Builder setShutdownHook(boolean enabled) {
      this.shutdownHook = enabled;
      return this;
    }

    /**
     * Builds and registers the SDK as the global OpenTelemetry, or returns a handle on the global
     * that already exists.
     *
     * @throws ConfigurationException when a setting is invalid
     */
    public TraceletOpenTelemetry initialize() {
      synchronized (TraceletOpenTelemetry.class) {
        // isSet() does not trigger GlobalOpenTelemetry's own autoconfiguration, get() could.
        if (GlobalOpenTelemetry.isSet()) {
          return new TraceletOpenTelemetry(
              GlobalOpenTelemetry.get(), null, closeTimeout, null, null);
        }
        // Before the SDK exists: the context storage is fixed on first use.
        TraceletMdc.install();
        Map<String, String> overrides = Map.copyOf(properties);
        SpanLoss loss = new SpanLoss(nanoClock);
        OpenTelemetrySdk sdk;
        try {
          sdk =
              AutoConfiguredOpenTelemetrySdk.builder()
                  .addPropertiesSupplier(Builder::defaults)
                  .addPropertiesCustomizer(config -> overrides)
                  .addPropertiesCustomizer(Builder::tracesExporterDefault)
                  .addTracerProviderCustomizer(Builder::addTraceletProcessors)
                  // Failed exports are counted on the exporter, queue drops by the batch span
                  // processor itself on the SDK's meter provider, read back through our reader.
                  .addSpanExporterCustomizer((exporter, config) -> loss.wrap(exporter))
                  .addMeterProviderCustomizer(
                      (meters, config) ->
                          exports(config) ? meters.registerMetricReader(loss.reader()) : meters)
                  .disableShutdownHook()
                  .build()
                  .getOpenTelemetrySdk();
        } catch (ConfigurationException e) {
          throw explainMissingGrpcSender(e);
        }
        try {
          GlobalOpenTelemetry.set(sdk);
        } catch (IllegalStateException raced) {
          // Someone registered a global between isSet() and here: theirs wins, ours goes.
          sdk.shutdown().join(closeTimeout.toMillis(), TimeUnit.MILLISECONDS);
          return new TraceletOpenTelemetry(
              GlobalOpenTelemetry.get(), null, closeTimeout, null, null);
        }
        loss.registerMetrics(sdk.getMeterProvider());
        Thread hook = null;
        if (shutdownHook) {
          Duration timeout = closeTimeout;
          hook = new Thread(() -> shutdown(sdk, timeout, loss), "tracelet-otel-shutdown");
          Runtime.getRuntime().addShutdownHook(hook);
        }
        return new TraceletOpenTelemetry(sdk, sdk, closeTimeout, hook, loss);
      }
    }

    /** Whether spans are exported (so a batch span processor may drop some). */
    private static boolean exports(ConfigProperties config) {
      return !config.getList("otel.traces.exporter", List.of()).equals(NO_EXPORTER);
    }

    /**
     * Autoconfigure reports a missing gRPC sender as "Unexpected configuration error", with the
     * real reason two causes down. We ship only the JDK HttpClient sender, which cannot speak gRPC
     * (no HTTP trailers), so a user who sets the grpc protocol meets this first: say what to do.
     */
    private static ConfigurationException explainMissingGrpcSender(ConfigurationException e) {
      for (Throwable t = e; t != null; t = t.getCause()) {
        String message = t.getMessage();
        if (t instanceof IllegalStateException
            && message != null
            && message.startsWith("No GrpcSenderProvider found")) {
          return new ConfigurationException(
              "OTLP over grpc (OTEL_EXPORTER_OTLP_PROTOCOL / otel.exporter.otlp.protocol) needs a"
                  + " gRPC sender, which tracelet-sdk does not bring: add the dependency"
                  + " io.opentelemetry:opentelemetry-exporter-sender-okhttp, or use http/protobuf"
                  + " (the default, port 4318)",
              e);
        }
      }
      return e;
    }

    // Lowest precedence: environment variables and system properties override these. The OTLP
    // protocol default is the one the OpenTelemetry specification names (http/protobuf, port 4318);
    // OpenTelemetry Java's autoconfigure still defaults to grpc, which fails against
    // OTEL_EXPORTER_OTLP_ENDPOINT=http://localhost:4318.
    private static Map<String, String> defaults() {
      return Map.of(
          "otel.metrics.exporter", "none",
          "otel.logs.exporter", "none",
          "otel.exporter.otlp.protocol", "http/protobuf");
    }

    /**
     * Where spans go when {@code otel.traces.exporter} / {@code OTEL_TRACES_EXPORTER} is not set:
     * to OTLP if an OTLP endpoint (generic or for traces) is configured, as the OpenTelemetry
     * Operator and most platforms configure only the endpoint; otherwise nowhere but the span log,
     * so that a newcomer without a collector sees spans and no export errors. Runs after the
     * builder's own properties, so {@link #setProperty} counts as set.
     */
    private static Map<String, String> tracesExporterDefault(ConfigProperties config) {
      if (config.getString("otel.traces.exporter") != null) {
        return Map.of();
      }
      boolean endpoint =
          config.getString("otel.exporter.otlp.endpoint") != null
              || config.getString("otel.exporter.otlp.traces.endpoint") != null;
      return Map.of("otel.traces.exporter", endpoint ? "otlp" : "none");
    }

    /** One line for the start-up log: where the spans of this SDK go. */
    private static String whereSpansGo(SpanLog.Mode mode, boolean tree, ConfigProperties config) {
      List<String> places = new ArrayList<>();
      if (mode != SpanLog.Mode.OFF) {
        places.add("the span log (" + mode.name().toLowerCase(Locale.ROOT).replace('_', '-') + ")");
      }
      if (tree) {
        places.add("the request span tree");
      }
      for (String exporter : config.getList("otel.traces.exporter", List.of())) {
        if (exporter.equals("none")) {
          continue;
        }
        if (exporter.equals("otlp")) {
          String protocol =
              config.getString(
                  "otel.exporter.otlp.traces.protocol",
                  config.getString("otel.exporter.otlp.protocol", "http/protobuf"));
          String endpoint = config.getString("otel.exporter.otlp.traces.endpoint");
          if (endpoint == null) {
            String base = config.getString("otel.exporter.otlp.endpoint");
            if (base == null) {
              endpoint =
                  protocol.equals("grpc")
                      ? "http://localhost:4317"
                      : "http://localhost:4318/v1/traces";
            } else {
              endpoint = protocol.equals("grpc") ? base : base.replaceAll("/+$", "") + "/v1/traces";
            }
          }
          places.add("OTLP " + protocol + " at " + safeEndpoint(endpoint));
        } else {
          places.add("the " + SpanText.sanitizeName(exporter) + " exporter");
        }
      }
      return places.isEmpty()
          ? "nowhere (span log off, no exporter); trace IDs, propagation and the MDC still work"
          : String.join(" and ", places);
    }

    /** The endpoint without user info, query or fragment (which could carry credentials). */
    private static String safeEndpoint(String endpoint) {
      try {
        URI uri = new URI(endpoint.trim());
        if (uri.getScheme() == null || uri.getHost() == null) {
          return "(an endpoint that is not a URL)";
        }
        return uri.getScheme()
            + "://"
            + uri.getHost()
            + (uri.getPort() >= 0 ? ":" + uri.getPort() : "")
            + (uri.getRawPath() == null ? "" : uri.getRawPath());
      } catch (URISyntaxException e) {
        return "(an endpoint that is not a URL)";
      }
    }

    private static SdkTracerProviderBuilder addTraceletProcessors(
        SdkTracerProviderBuilder builder, ConfigProperties config) {
      SpanLog.Mode mode;
      try {
        mode = SpanLog.Mode.parse(config.getString(SPAN_LOG_PROPERTY, "end"));
      } catch (IllegalArgumentException e) {
        throw new ConfigurationException(
            "Invalid " + SPAN_LOG_PROPERTY + " (env TRACELET_SPAN_LOG): " + e.getMessage(), e);
      }
      boolean anyProcessor = false;
      if (mode != SpanLog.Mode.OFF) {
        builder.addSpanProcessor(SpanLog.create(mode));
        anyProcessor = true;
      }
      String tree = config.getString(SPAN_TREE_PROPERTY, "false").trim().toLowerCase(Locale.ROOT);
      if (!tree.equals("true") && !tree.equals("false")) {
        throw new ConfigurationException(
            "Invalid "
                + SPAN_TREE_PROPERTY
                + " (env TRACELET_SPAN_TREE): must be true or false; got '"
                + SpanText.sanitizeName(tree)
                + "'");
      }
      if (tree.equals("true")) {
        int maxSpans = config.getInt(SPAN_TREE_MAX_SPANS_PROPERTY, 256);
        if (maxSpans < 1) {
          throw new ConfigurationException(
              "Invalid " + SPAN_TREE_MAX_SPANS_PROPERTY + ": must be at least 1; got " + maxSpans);
        }
        builder.addSpanProcessor(SpanTree.builder().setMaxSpansPerTree(maxSpans).build());
        anyProcessor = true;
      }
      if (!anyProcessor && !exports(config)) {
        // Without any span processor, SdkTracerProvider.tracerBuilder hands out OpenTelemetry's
        // no-op tracer (TracerSharedState.hasNoSpanProcessor()), whose spans only wrap their
        // parent: a server span would echo the caller's span ID, or have none at all. One
        // processor that does nothing keeps the SDK's own tracer, so the IDs, the propagation
        // and the MDC are the same whether the spans go anywhere or not.
        builder.addSpanProcessor(NoExportSpanProcessor.INSTANCE);
      }
      logger.info("Tracelet: spans go to {}", whereSpansGo(mode, tree.equals("true"), config));
      return builder;
    }

    private static final List<String> NO_EXPORTER = List.of("none");
  }

  /**
   * Stands in for "no processor" so that the SDK keeps making real spans (with their own IDs);
   * needs neither start nor end, so the SDK calls it for nothing.
   */
  private enum NoExportSpanProcessor implements SpanProcessor {
    INSTANCE;

    @Override
    public void onStart(Context parentContext, ReadWriteSpan span) {}

    @Override
    public boolean isStartRequired() {
      return false;
    }

    @Override
    public void onEnd(ReadableSpan span) {}

    @Override
    public boolean isEndRequired() {
      return false;
    }

    @Override
    public String toString() {
      return "TraceletOpenTelemetry.NoExportSpanProcessor";
    }
  }
}
