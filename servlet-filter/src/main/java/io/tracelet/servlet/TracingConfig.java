package io.tracelet.servlet;

import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.context.propagation.TextMapPropagator;
import io.tracelet.servlet.internal.propagation.IsolatedPropagator;
import io.tracelet.servlet.internal.settings.SettingParsers;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * The settings of a {@link TracingFilter}, set in code. Anything not set here falls back, in this
 * order, to the filter's init-param, the system property {@code tracelet.<name>}, the environment
 * variable {@code TRACELET_<NAME>} and the default.
 *
 * <pre>{@code
 * TracingConfig config = TracingConfig.builder()
 *     .requestTimeout(Duration.ofSeconds(2))
 *     .excludedPaths("/health", "/metrics/**")
 *     .build();
 * context.addFilter(new FilterHolder(new TracingFilter(config)), "/*",
 *     EnumSet.of(DispatcherType.REQUEST, DispatcherType.ASYNC));
 * }</pre>
 */
public final class TracingConfig {

  /** Every setting, with its names in each source and its default. */
  public enum Setting {
    /** The header that carries the request ID, in and out. */
    REQUEST_ID_HEADER(
        "request-id-header",
        "header name",
        "X-Request-ID",
        "X-Correlation-ID",
        SettingParsers.HEADER_NAME),
    /** Whether incoming trace context, request ID, baggage and deadline are trusted. */
    TRUST_INCOMING("trust-incoming", "boolean", "true", "false", SettingParsers.BOOLEAN),
    /** The longest a request may take; {@code none} for no limit. */
    REQUEST_TIMEOUT(
        "request-timeout", "duration or none", "none", "2s", SettingParsers.OPTIONAL_DURATION),
    /**
     * The header that carries the caller's remaining time, in milliseconds ({@code
     * x-envoy-expected-rq-timeout-ms} from Envoy is one) or, for {@code grpc-timeout}, in the gRPC
     * syntax ({@code 100m}); {@code none} to ignore.
     */
    DEADLINE_HEADER(
        "deadline-header",
        "header name or none",
        "X-Request-Timeout-Ms",
        "x-envoy-expected-rq-timeout-ms",
        SettingParsers.OPTIONAL_HEADER_NAME),
    /** The longest deadline accepted from the deadline header. */
    MAX_INCOMING_TIMEOUT("max-incoming-timeout", "duration", "30s", "10s", SettingParsers.DURATION),
    /** Paths (within the context, globs with {@code *} and {@code **}) that get no span. */
    EXCLUDED_PATHS(
        "excluded-paths",
        "comma-separated globs",
        "",
        "/health,/metrics/**",
        SettingParsers.PATH_GLOBS),
    /** Whether the request ID is echoed in the response. */
    RESPONSE_REQUEST_ID("response-request-id", "boolean", "true", "false", SettingParsers.BOOLEAN),
    /** Whether the W3C {@code traceresponse} header is written. */
    RESPONSE_TRACERESPONSE(
        "response-traceresponse", "boolean", "true", "false", SettingParsers.BOOLEAN),
    /** Whether an {@code X-Trace-ID} header is written. */
    RESPONSE_TRACE_ID("response-trace-id", "boolean", "false", "true", SettingParsers.BOOLEAN),
    /** Whether a {@code Server-Timing: traceparent;desc="..."} header is written. */
    RESPONSE_SERVER_TIMING(
        "response-server-timing", "boolean", "false", "true", SettingParsers.BOOLEAN),
    /**
     * Whether a client that leaves is noticed while the application works (Jetty 12 only). Off
     * saves the per-request cost of the read probe (see docs/performance.md); deadlines still
     * cancel.
     */
    DETECT_DISCONNECT("detect-disconnect", "boolean", "true", "false", SettingParsers.BOOLEAN),
    /** Query parameters whose values are replaced by {@code REDACTED} in {@code url.query}. */
    REDACT_QUERY_PARAMS(
        "redact-query-params",
        "comma-separated names",
        "AWSAccessKeyId,Signature,sig,X-Goog-Signature,access_token,token,password,api_key,apikey,"
            + "secret,client_secret",
        "token,session",
        SettingParsers.LOWER_CASE_SET),
    /** Baggage keys that outbound calls may forward. */
    BAGGAGE_ALLOW_LIST(
        "baggage-allow-list", "comma-separated keys", "", "tenant,user.tier", SettingParsers.LIST),
    /**
     * The propagators to read incoming context with; empty means the OpenTelemetry instance's, then
     * {@code otel.propagators} / {@code OTEL_PROPAGATORS}, then {@code tracecontext,baggage}.
     */
    PROPAGATORS(
        "propagators",
        "comma-separated: tracecontext, baggage, b3, b3multi, jaeger, ottrace, none",
        "",
        "tracecontext,baggage,b3multi",
        SettingParsers.PROPAGATORS);

    private final String key;
    private final String type;
    private final String defaultValue;
    private final String example;
    private final SettingParsers.Parser parser;

    Setting(
        String key,
        String type,
        String defaultValue,
        String example,
        SettingParsers.Parser parser) {
      this.key = key;
      this.type = type;
      this.defaultValue = defaultValue;
      this.example = example;
      this.parser = parser;
    }

    /**
     * The value parsed into this setting's type (a {@code Boolean}, a {@code Duration}, a header
     * name, ...); {@code source} says where the text came from, for the error message.
     *
     * @throws IllegalArgumentException naming the setting, the source and what is accepted
     */
    public Object parse(String value, String source) {
      return parser.parse(key, Objects.requireNonNull(value, key), source);
    }

    /** The init-param name, for example {@code request-timeout}. */
    public String key() {
      return key;
    }

    /** The system property, for example {@code tracelet.request-timeout}. */
    public String systemProperty() {
      return "tracelet." + key;
    }

    /** The environment variable, for example {@code TRACELET_REQUEST_TIMEOUT}. */
    public String environmentVariable() {
      return "TRACELET_" + key.toUpperCase(Locale.ROOT).replace('-', '_');
    }

    /** What values are accepted. */
    public String type() {
      return type;
    }

    /** The default, as it would be written in an init-param. */
    public String defaultValue() {
      return defaultValue;
    }

    /** An example value. */
    public String example() {
      return example;
    }

    /** The setting with this init-param name, or {@code null}. */
    public static Setting forKey(String key) {
      for (Setting s : values()) {
        if (s.key.equals(key)) {
          return s;
        }
      }
      return null;
    }
  }

  private final Map<Setting, String> explicit;
  private final OpenTelemetry openTelemetry;
  private final TextMapPropagator propagator;

  private TracingConfig(Builder b) {
    this.explicit = Collections.unmodifiableMap(new EnumMap<>(b.values));
    this.openTelemetry = b.openTelemetry;
    this.propagator = b.propagator;
  }

  /** A builder with nothing set. */
  public static Builder builder() {
    return new Builder();
  }

  /** A config with nothing set: everything comes from init-params, properties or defaults. */
  public static TracingConfig defaults() {
    return new Builder().build();
  }

  /** The names of every setting, in documentation order. */
  public static List<String> settingNames() {
    List<String> names = new ArrayList<>();
    for (Setting s : Setting.values()) {
      names.add(s.key());
    }
    return Collections.unmodifiableList(names);
  }

  /** The values set in code, as they would be written in an init-param. */
  public Map<Setting, String> explicitValues() {
    return explicit;
  }

  /** The OpenTelemetry instance set in code, or {@code null}. */
  public OpenTelemetry openTelemetry() {
    return openTelemetry;
  }

  /** The incoming propagator set in code, or {@code null}. */
  public TextMapPropagator propagator() {
    return propagator;
  }

  /** Builds a {@link TracingConfig}; every setter validates at once. */
  public static final class Builder {
    private final EnumMap<Setting, String> values = new EnumMap<>(Setting.class);
    private OpenTelemetry openTelemetry;
    private TextMapPropagator propagator;

    private Builder() {}

    /**
     * Sets a setting by its init-param name, as text.
     *
     * @throws IllegalArgumentException if the name is unknown or the value invalid
     */
    public Builder set(String name, String value) {
      Setting s = Setting.forKey(name);
      if (s == null) {
        throw new IllegalArgumentException(
            "unknown Tracelet setting '" + name + "'; known settings: " + settingNames());
      }
      return set(s, value);
    }

    /** Sets {@code setting} as text; validated at once. */
    public Builder set(Setting setting, String value) {
      Objects.requireNonNull(value, setting.key());
      setting.parse(value, "the TracingConfig builder");
      values.put(setting, value);
      return this;
    }

    /** The request ID header (default {@code X-Request-ID}). */
    public Builder requestIdHeader(String name) {
      return set(Setting.REQUEST_ID_HEADER, name);
    }

    /** Whether to trust incoming IDs, baggage and deadline (default true). */
    public Builder trustIncoming(boolean trust) {
      return set(Setting.TRUST_INCOMING, Boolean.toString(trust));
    }

    /** The per-request timeout; {@code null} for none (the default). */
    public Builder requestTimeout(Duration timeout) {
      return set(Setting.REQUEST_TIMEOUT, timeout == null ? "none" : timeout.toString());
    }

    /**
     * The incoming deadline header; {@code null} to ignore incoming deadlines. Its value is whole
     * milliseconds, except for {@code grpc-timeout}, which is read with the gRPC syntax.
     */
    public Builder deadlineHeader(String name) {
      return set(Setting.DEADLINE_HEADER, name == null ? "none" : name);
    }

    /** The longest incoming deadline accepted (default 30 s). */
    public Builder maxIncomingTimeout(Duration max) {
      return set(Setting.MAX_INCOMING_TIMEOUT, Objects.requireNonNull(max, "max").toString());
    }

    /** Paths that get no span (globs within the context path). */
    public Builder excludedPaths(String... globs) {
      return set(Setting.EXCLUDED_PATHS, String.join(",", globs));
    }

    /** Whether the request ID header is written in the response (default true). */
    public Builder responseRequestId(boolean enabled) {
      return set(Setting.RESPONSE_REQUEST_ID, Boolean.toString(enabled));
    }

    /** Whether the {@code traceresponse} header is written (default true). */
    public Builder responseTraceResponse(boolean enabled) {
      return set(Setting.RESPONSE_TRACERESPONSE, Boolean.toString(enabled));
    }

    /** Whether the {@code X-Trace-ID} header is written (default false). */
    public Builder responseTraceId(boolean enabled) {
      return set(Setting.RESPONSE_TRACE_ID, Boolean.toString(enabled));
    }

    /** Whether the {@code Server-Timing} header is written (default false). */
    public Builder responseServerTiming(boolean enabled) {
      return set(Setting.RESPONSE_SERVER_TIMING, Boolean.toString(enabled));
    }

    /**
     * Whether a client that leaves is noticed while the application works (default true; Jetty 12
     * only). Off saves the read probe's per-request cost; deadlines still cancel.
     */
    public Builder detectDisconnect(boolean enabled) {
      return set(Setting.DETECT_DISCONNECT, Boolean.toString(enabled));
    }

    /** Query parameters to redact in {@code url.query}; replaces the default list. */
    public Builder redactQueryParams(String... names) {
      return set(Setting.REDACT_QUERY_PARAMS, String.join(",", names));
    }

    /** Baggage keys that may be forwarded on outbound calls. */
    public Builder baggageAllowList(String... keys) {
      return set(Setting.BAGGAGE_ALLOW_LIST, String.join(",", keys));
    }

    /** The propagators by name, as in {@code OTEL_PROPAGATORS}. */
    public Builder propagators(String names) {
      return set(Setting.PROPAGATORS, names);
    }

    /**
     * The propagators to read incoming context with, run in order; overrides {@link
     * #propagators(String)}. Each one given here is isolated: if it throws, the others still run (a
     * composite built with {@link TextMapPropagator#composite} counts as one).
     */
    public Builder propagator(TextMapPropagator... propagators) {
      Objects.requireNonNull(propagators, "propagators");
      if (propagators.length == 0) {
        throw new IllegalArgumentException("propagator(..) needs at least one propagator");
      }
      List<TextMapPropagator> parts = new ArrayList<>(propagators.length);
      for (TextMapPropagator p : propagators) {
        parts.add(Objects.requireNonNull(p, "propagator"));
      }
      this.propagator = IsolatedPropagator.of(parts, IsolatedPropagator.FailureCounter.NONE);
      return this;
    }

    /** The OpenTelemetry instance (default: a servlet-context attribute, else the global one). */
    public Builder openTelemetry(OpenTelemetry openTelemetry) {
      this.openTelemetry = Objects.requireNonNull(openTelemetry, "openTelemetry");
      return this;
    }

    /** The immutable config. */
    public TracingConfig build() {
      return new TracingConfig(this);
    }
  }
}
