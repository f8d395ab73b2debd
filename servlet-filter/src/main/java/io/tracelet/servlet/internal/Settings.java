package io.tracelet.servlet.internal;

import io.opentelemetry.context.propagation.TextMapPropagator;
import io.tracelet.DeadlineHeader;
import io.tracelet.servlet.TracingConfig;
import io.tracelet.servlet.TracingConfig.Setting;
import java.time.Duration;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Function;

/**
 * The resolved, typed settings of one filter. Each setting comes from the first source that has it:
 * the {@link TracingConfig} built in code, the filter's init-param, the system property {@code
 * tracelet.<name>}, the environment variable {@code TRACELET_<NAME>}, then the default.
 */
public final class Settings {

  final String requestIdHeader;
  final boolean trustIncoming;
  final Duration requestTimeout;
  final String deadlineHeader;
  final boolean deadlineHeaderGrpc; // deadline-header is grpc-timeout: values carry a unit
  final Duration maxIncomingTimeout;
  final PathGlobs excludedPaths;
  final boolean responseRequestId;
  final boolean responseTraceResponse;
  final boolean responseTraceId;
  final boolean responseServerTiming;
  final boolean detectDisconnect;
  final Set<String> redactQueryParams;
  final List<String> baggageAllowList;
  final TextMapPropagator propagators;
  private final Map<Setting, String> sources;

  private Settings(Map<Setting, String> raw, Map<Setting, String> sources) {
    this.sources = sources;
    requestIdHeader =
        SettingParsers.parseHeaderName(
            Setting.REQUEST_ID_HEADER,
            raw.get(Setting.REQUEST_ID_HEADER),
            sources.get(Setting.REQUEST_ID_HEADER),
            false);
    trustIncoming = bool(raw, Setting.TRUST_INCOMING);
    requestTimeout =
        SettingParsers.parseOptionalDuration(
            Setting.REQUEST_TIMEOUT,
            raw.get(Setting.REQUEST_TIMEOUT),
            sources.get(Setting.REQUEST_TIMEOUT));
    deadlineHeader =
        SettingParsers.parseHeaderName(
            Setting.DEADLINE_HEADER,
            raw.get(Setting.DEADLINE_HEADER),
            sources.get(Setting.DEADLINE_HEADER),
            true);
    deadlineHeaderGrpc = DeadlineHeader.isGrpcTimeout(deadlineHeader);
    maxIncomingTimeout =
        SettingParsers.parseDuration(
            Setting.MAX_INCOMING_TIMEOUT,
            raw.get(Setting.MAX_INCOMING_TIMEOUT),
            sources.get(Setting.MAX_INCOMING_TIMEOUT));
    excludedPaths =
        PathGlobs.parse(
            SettingParsers.list(raw.get(Setting.EXCLUDED_PATHS)),
            Setting.EXCLUDED_PATHS,
            sources.get(Setting.EXCLUDED_PATHS));
    responseRequestId = bool(raw, Setting.RESPONSE_REQUEST_ID);
    responseTraceResponse = bool(raw, Setting.RESPONSE_TRACERESPONSE);
    responseTraceId = bool(raw, Setting.RESPONSE_TRACE_ID);
    responseServerTiming = bool(raw, Setting.RESPONSE_SERVER_TIMING);
    detectDisconnect = bool(raw, Setting.DETECT_DISCONNECT);
    Set<String> redact = new TreeSet<>();
    for (String name : SettingParsers.list(raw.get(Setting.REDACT_QUERY_PARAMS))) {
      redact.add(name.toLowerCase(Locale.ROOT));
    }
    redactQueryParams = redact;
    baggageAllowList = SettingParsers.list(raw.get(Setting.BAGGAGE_ALLOW_LIST));
    propagators =
        SettingParsers.parsePropagators(
            Setting.PROPAGATORS, raw.get(Setting.PROPAGATORS), sources.get(Setting.PROPAGATORS));
  }

  private boolean bool(Map<Setting, String> raw, Setting s) {
    return SettingParsers.parseBoolean(s, raw.get(s), sources.get(s));
  }

  /**
   * Resolves every setting.
   *
   * @param initParam the filter's init-param by name (null when absent)
   * @param systemProperty system properties by name
   * @param environment environment variables by name
   * @throws IllegalArgumentException naming the setting and what it accepts
   */
  public static Settings resolve(
      TracingConfig config,
      Function<String, String> initParam,
      Function<String, String> systemProperty,
      Function<String, String> environment) {
    Map<Setting, String> raw = new EnumMap<>(Setting.class);
    Map<Setting, String> sources = new EnumMap<>(Setting.class);
    for (Setting s : Setting.values()) {
      String v = config.explicitValues().get(s);
      String source = "the TracingConfig builder";
      if (v == null) {
        v = initParam.apply(s.key());
        source = "init-param " + s.key();
      }
      if (v == null) {
        v = systemProperty.apply(s.systemProperty());
        source = "system property " + s.systemProperty();
      }
      if (v == null) {
        v = environment.apply(s.environmentVariable());
        source = "environment variable " + s.environmentVariable();
      }
      if (v == null) {
        v = s.defaultValue();
        source = "the default";
      }
      raw.put(s, v);
      sources.put(s, source);
    }
    return new Settings(raw, sources);
  }

  /** Whether client disconnects are detected (where the container allows it). */
  public boolean detectDisconnect() {
    return detectDisconnect;
  }

  /** The request ID header name. */
  public String requestIdHeader() {
    return requestIdHeader;
  }

  /** The propagators named by the {@code propagators} setting, or null when it is empty. */
  public TextMapPropagator propagators() {
    return propagators;
  }

  /** The baggage keys outbound calls may forward. */
  public List<String> baggageAllowList() {
    return baggageAllowList;
  }

  /** Where a setting's value came from, for messages. */
  public String sourceOf(Setting s) {
    return sources.get(s);
  }

  /**
   * The propagator named by {@code otel.propagators} / {@code OTEL_PROPAGATORS}, or null when
   * neither is set.
   */
  public static TextMapPropagator otelPropagators(
      Function<String, String> systemProperty, Function<String, String> environment) {
    String v = systemProperty.apply("otel.propagators");
    String source = "system property otel.propagators";
    if (v == null) {
      v = environment.apply("OTEL_PROPAGATORS");
      source = "environment variable OTEL_PROPAGATORS";
    }
    return v == null ? null : SettingParsers.parsePropagators(Setting.PROPAGATORS, v, source);
  }
}
