package io.tracelet.spring.boot;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tracelet.servlet.TracingConfig;
import io.tracelet.servlet.TracingConfig.Setting;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.springframework.core.env.MapPropertySource;
import org.springframework.core.env.StandardEnvironment;

class TraceletPropertiesTest {

  private static StandardEnvironment environment(Map<String, Object> values) {
    StandardEnvironment env = new StandardEnvironment();
    env.getPropertySources().addFirst(new MapPropertySource("test", values));
    return env;
  }

  @Test
  void properties_areBoundToTheirSettings() {
    TracingConfig config =
        TraceletProperties.bind(
                environment(
                    Map.of(
                        "tracelet.request-timeout", "2s",
                        "tracelet.requestIdHeader", "X-Correlation-ID",
                        "tracelet.excluded-paths[0]", "/actuator/**",
                        "tracelet.excluded-paths[1]", "/health",
                        "tracelet.response-trace-id", "true")),
                TracingConfig.builder())
            .build();
    assertThat(config.explicitValues())
        .containsEntry(Setting.REQUEST_TIMEOUT, "2s")
        .containsEntry(Setting.REQUEST_ID_HEADER, "X-Correlation-ID")
        .containsEntry(Setting.EXCLUDED_PATHS, "/actuator/**,/health")
        .containsEntry(Setting.RESPONSE_TRACE_ID, "true")
        .doesNotContainKey(Setting.TRUST_INCOMING);
  }

  @Test
  void aCommaSeparatedList_isBoundAsIs() {
    TracingConfig config =
        TraceletProperties.bind(
                environment(Map.of("tracelet.baggage-allow-list", "tenant,user.tier")),
                TracingConfig.builder())
            .build();
    assertThat(config.explicitValues())
        .containsEntry(Setting.BAGGAGE_ALLOW_LIST, "tenant,user.tier");
  }

  @Test
  void anInvalidValue_failsWithThePropertysName() {
    assertThatThrownBy(
            () ->
                TraceletProperties.bind(
                    environment(Map.of("tracelet.request-timeout", "soon")),
                    TracingConfig.builder()))
        .isInstanceOf(InvalidTraceletPropertyException.class)
        .hasMessageContaining("tracelet.request-timeout")
        .hasMessageContaining("'soon'")
        .hasMessageContaining("duration or none");
  }

  @Test
  void unknownTraceletProperties_areFound_butListElementsAndSdkSettingsAreNot() {
    assertThat(
            TraceletProperties.unknownProperties(
                environment(
                    Map.of(
                        "tracelet.request-timout", "2s",
                        "tracelet.excluded-paths[0]", "/health",
                        "tracelet.span.log", "off",
                        "tracelet.enabled", "true"))))
        .containsExactly("tracelet.request-timout");
  }
}
