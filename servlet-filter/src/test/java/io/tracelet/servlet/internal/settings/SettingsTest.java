package io.tracelet.servlet.internal.settings;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.tracelet.servlet.TracingConfig;
import io.tracelet.servlet.TracingConfig.Setting;
import java.time.Duration;
import java.util.Map;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

class SettingsTest {

  static final Function<String, String> NONE = k -> null;

  @Test
  void precedence_isBuilderThenInitParamThenSystemPropertyThenEnvironmentThenDefault() {
    Function<String, String> env =
        Map.of(
                "TRACELET_REQUEST_ID_HEADER", "X-Env",
                "TRACELET_REQUEST_TIMEOUT", "4s",
                "TRACELET_MAX_INCOMING_TIMEOUT", "3s",
                "TRACELET_TRUST_INCOMING", "false")
            ::get;
    Function<String, String> props =
        Map.of("tracelet.request-timeout", "3s", "tracelet.max-incoming-timeout", "2s")::get;
    Function<String, String> params = Map.of("max-incoming-timeout", "1s")::get;
    TracingConfig config = TracingConfig.builder().requestIdHeader("X-Builder").build();

    Settings s = Settings.resolve(config, params, props, env);

    assertThat(s.requestIdHeader).isEqualTo("X-Builder");
    assertThat(s.maxIncomingTimeout).isEqualTo(Duration.ofSeconds(1));
    assertThat(s.requestTimeout).isEqualTo(Duration.ofSeconds(3));
    assertThat(s.trustIncoming).isFalse();
    assertThat(s.deadlineHeader).isEqualTo("X-Request-Timeout-Ms");
    assertThat(s.sourceOf(Setting.REQUEST_TIMEOUT))
        .isEqualTo("system property tracelet.request-timeout");
  }

  @Test
  void defaults_matchTheDocumentedOnes() {
    Settings s = Settings.resolve(TracingConfig.defaults(), NONE, NONE, NONE);
    assertThat(s.requestIdHeader).isEqualTo("X-Request-ID");
    assertThat(s.trustIncoming).isTrue();
    assertThat(s.requestTimeout).isNull();
    assertThat(s.maxIncomingTimeout).isEqualTo(Duration.ofSeconds(30));
    assertThat(s.responseRequestId).isTrue();
    assertThat(s.responseTraceResponse).isTrue();
    assertThat(s.responseTraceId).isFalse();
    assertThat(s.responseServerTiming).isFalse();
    assertThat(s.redactQueryParams).contains("sig", "token", "awsaccesskeyid");
    assertThat(s.baggageAllowList).isEmpty();
    assertThat(s.propagators).isNull();
  }

  @Test
  void durations_acceptShortFormsAndIso8601() {
    Setting t = Setting.REQUEST_TIMEOUT;
    assertThat(SettingParsers.parseOptionalDuration(t.key(), "500ms", "x"))
        .isEqualTo(Duration.ofMillis(500));
    assertThat(SettingParsers.parseOptionalDuration(t.key(), "2s", "x"))
        .isEqualTo(Duration.ofSeconds(2));
    assertThat(SettingParsers.parseOptionalDuration(t.key(), "1m", "x"))
        .isEqualTo(Duration.ofMinutes(1));
    assertThat(SettingParsers.parseOptionalDuration(t.key(), "PT1.5S", "x"))
        .isEqualTo(Duration.ofMillis(1500));
    assertThat(SettingParsers.parseOptionalDuration(t.key(), "none", "x")).isNull();
  }

  @Test
  void invalidValue_namesSettingSourceAndAcceptedValues() {
    Function<String, String> params = Map.of("request-timeout", "soon")::get;
    assertThatThrownBy(() -> Settings.resolve(TracingConfig.defaults(), params, NONE, NONE))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'request-timeout'")
        .hasMessageContaining("init-param request-timeout")
        .hasMessageContaining("\"soon\"")
        .hasMessageContaining("500ms");
    assertThatThrownBy(() -> TracingConfig.builder().set("trust-incoming", "yes"))
        .hasMessageContaining("true or false");
    assertThatThrownBy(() -> TracingConfig.builder().requestTimeout(Duration.ofSeconds(-1)))
        .hasMessageContaining("positive duration");
    assertThatThrownBy(() -> TracingConfig.builder().requestIdHeader("X Bad"))
        .hasMessageContaining("header name");
    assertThatThrownBy(() -> TracingConfig.builder().propagators("tracecontext,zipkin"))
        .hasMessageContaining("b3multi");
    assertThatThrownBy(() -> TracingConfig.builder().excludedPaths("health"))
        .hasMessageContaining("starting with '/'");
    assertThatThrownBy(() -> TracingConfig.builder().set("no-such-setting", "1"))
        .hasMessageContaining("request-id-header");
  }

  @Test
  void namesForEachSource_followOneScheme() {
    assertThat(Setting.REQUEST_TIMEOUT.systemProperty()).isEqualTo("tracelet.request-timeout");
    assertThat(Setting.REQUEST_TIMEOUT.environmentVariable()).isEqualTo("TRACELET_REQUEST_TIMEOUT");
    assertThat(TracingConfig.settingNames())
        .hasSize(Setting.values().length)
        .contains("excluded-paths");
  }

  @Test
  void otelPropagators_areReadFromPropertyThenEnvironment() {
    assertThat(Settings.otelPropagators(NONE, NONE)).isNull();
    assertThat(Settings.otelPropagators(NONE, Map.of("OTEL_PROPAGATORS", "b3multi")::get).fields())
        .contains("X-B3-TraceId");
    assertThat(
            Settings.otelPropagators(
                    Map.of("otel.propagators", "tracecontext")::get,
                    Map.of("OTEL_PROPAGATORS", "b3multi")::get)
                .fields())
        .containsExactlyElementsOf(W3CTraceContextPropagator.getInstance().fields());
  }

  @Test
  void globs_matchSegmentsAndSubtrees() {
    PathGlobs g =
        PathGlobs.parse(
            SettingParsers.list("/health, /metrics/**, /static/*.css"),
            Setting.EXCLUDED_PATHS.key(),
            "x");
    assertThat(g.matches("/health")).isTrue();
    assertThat(g.matches("/healthz")).isFalse();
    assertThat(g.matches("/metrics")).isTrue();
    assertThat(g.matches("/metrics/jvm/memory")).isTrue();
    assertThat(g.matches("/static/site.css")).isTrue();
    assertThat(g.matches("/static/a/site.css")).isFalse();
    assertThat(g.matches("/api")).isFalse();
  }
}
