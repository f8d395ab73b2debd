package io.tracelet.servlet.internal.settings;

import io.opentelemetry.context.propagation.TextMapPropagator;
import io.tracelet.DeadlineHeader;
import io.tracelet.servlet.TracingConfig;
import io.tracelet.servlet.TracingConfig.Setting;
import java.time.Duration;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * The resolved, typed settings of one filter. Each setting comes from the first source that has it:
 * the {@link TracingConfig} built in code, the filter's init-param, the system property {@code
 * tracelet.<name>}, the environment variable {@code TRACELET_<NAME>}, then the default.
 */
public final class Settings {

  // Public final fields: the request path reads them directly, and each was parsed once, here.
  public final String requestIdHeader;
  public final boolean trustIncoming;
  public final Duration requestTimeout;
  public final String deadlineHeader;
  public final boolean deadlineHeaderGrpc; // deadline-header is grpc-timeout: values carry a unit
  public final Duration maxIncomingTimeout;
  public final PathGlobs excludedPaths;
  public final boolean responseRequestId;
  public final boolean responseTraceResponse;
  public final boolean responseTraceId;
  public final boolean responseServerTiming;
  public final boolean detectDisconnect;
  public final Set<String> redactQueryParams;
  public final List<String> baggageAllowList;
  public final TextMapPropagator propagators;
  private final Map<Setting, String> sources;

  @SuppressWarnings("unchecked") // each Setting's parser returns the type read here
  private Settings(Map<Setting, Object> values, Map<Setting, String> sources) {
    this.sources = sources;
    requestIdHeader = (String) values.get(Setting.REQUEST_ID_HEADER);
    trustIncoming = (Boolean) values.get(Setting.TRUST_INCOMING);
    requestTimeout = (Duration) values.get(Setting.REQUEST_TIMEOUT);
    deadlineHeader = (String) values.get(Setting.DEADLINE_HEADER);
    deadlineHeaderGrpc = DeadlineHeader.isGrpcTimeout(deadlineHeader);
    maxIncomingTimeout = (Duration) values.get(Setting.MAX_INCOMING_TIMEOUT);
    excludedPaths = (PathGlobs) values.get(Setting.EXCLUDED_PATHS);
    responseRequestId = (Boolean) values.get(Setting.RESPONSE_REQUEST_ID);
    responseTraceResponse = (Boolean) values.get(Setting.RESPONSE_TRACERESPONSE);
    responseTraceId = (Boolean) values.get(Setting.RESPONSE_TRACE_ID);
    responseServerTiming = (Boolean) values.get(Setting.RESPONSE_SERVER_TIMING);
    detectDisconnect = (Boolean) values.get(Setting.DETECT_DISCONNECT);
    redactQueryParams = (Set<String>) values.get(Setting.REDACT_QUERY_PARAMS);
    baggageAllowList = (List<String>) values.get(Setting.BAGGAGE_ALLOW_LIST);
    propagators = (TextMapPropagator) values.get(Setting.PROPAGATORS);
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
    Map<Setting, Object> values = new EnumMap<>(Setting.class);
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
      values.put(s, s.parse(v, source));
      sources.put(s, source);
    }
    return new Settings(values, sources);
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
    return v == null ? null : SettingParsers.parsePropagators(Setting.PROPAGATORS.key(), v, source);
  }
}
