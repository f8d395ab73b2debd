package io.tracelet.it.alone;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.opentelemetry.api.OpenTelemetry;
import io.tracelet.it.Apps;
import io.tracelet.it.InMemoryOtel;
import io.tracelet.it.TestApp;
import io.tracelet.sdk.TraceletOpenTelemetry;
import io.tracelet.servlet.TracingConfig;
import io.tracelet.servlet.TracingConfig.Setting;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.Test;
import org.springframework.context.ConfigurableApplicationContext;

/** Start-up: properties, their validation, and OpenTelemetry set up by Tracelet. */
class StartupTest {

  @Test
  void properties_reachTheFilter() throws Exception {
    try (ConfigurableApplicationContext app =
        Apps.start(
            new Class<?>[] {TestApp.class, InMemoryOtel.class},
            "tracelet.request-id-header=X-Correlation-ID",
            "tracelet.response-trace-id=true",
            "tracelet.excluded-paths=/health,/actuator/**")) {
      TracingConfig config = app.getBean(TracingConfig.class);
      assertThat(config.explicitValues())
          .containsEntry(Setting.REQUEST_ID_HEADER, "X-Correlation-ID")
          .containsEntry(Setting.EXCLUDED_PATHS, "/health,/actuator/**");
      HttpResponse<String> response = Apps.get(app, "/orders/1", "X-Correlation-ID", "corr-1");
      assertThat(response.headers().firstValue("X-Correlation-ID")).hasValue("corr-1");
      assertThat(response.headers().firstValue("X-Trace-ID")).isPresent();
      assertThat(response.body()).isEqualTo("order 1 for request corr-1");
    }
  }

  @Test
  void anInvalidProperty_failsStartUp_namingIt() {
    assertThatThrownBy(
            () ->
                Apps.start(
                    new Class<?>[] {TestApp.class, InMemoryOtel.class},
                    "tracelet.max-incoming-timeout=-5s"))
        .hasStackTraceContaining(
            "Invalid value for property 'tracelet.max-incoming-timeout': '-5s'");
  }

  @Test
  void withoutAnOpenTelemetryOfItsOwn_tracletSetsOneUp_andClosesItWithTheContext()
      throws Exception {
    TraceletOpenTelemetry handle;
    // The SDK says so when it is shut down a second time: Spring must not close the OpenTelemetry
    // bean itself (its inferred destroy method), only the handle that owns it.
    List<String> sdkMessages = new CopyOnWriteArrayList<>();
    Logger sdkLog = Logger.getLogger("io.opentelemetry.sdk.OpenTelemetrySdk");
    Level level = sdkLog.getLevel();
    Handler recorder =
        new Handler() {
          @Override
          public void publish(LogRecord record) {
            sdkMessages.add(record.getMessage());
          }

          @Override
          public void flush() {}

          @Override
          public void close() {}
        };
    sdkLog.setLevel(Level.ALL);
    sdkLog.addHandler(recorder);
    try (ConfigurableApplicationContext app =
        Apps.start(new Class<?>[] {TestApp.class}, "tracelet.span.log=off")) {
      handle = app.getBean(TraceletOpenTelemetry.class);
      assertThat(handle.isOwned()).isTrue();
      assertThat(app.getBean(OpenTelemetry.class)).isSameAs(handle.openTelemetry());
      HttpResponse<String> response = Apps.get(app, "/context");
      assertThat(response.body()).endsWith("recording=true");
    } finally {
      sdkLog.removeHandler(recorder);
      sdkLog.setLevel(level);
    }
    assertThat(sdkMessages).noneMatch(m -> m.contains("Multiple shutdown"));
    // Closed with the context: spans started afterwards are dropped.
    assertThat(
            handle
                .openTelemetry()
                .getTracer("after-close")
                .spanBuilder("late")
                .startSpan()
                .isRecording())
        .isFalse();
  }

  @Test
  void tracelet_canBeTurnedOff() {
    try (ConfigurableApplicationContext app =
        Apps.start(new Class<?>[] {TestApp.class}, "tracelet.enabled=false")) {
      assertThat(app.getBeansOfType(TracingConfig.class)).isEmpty();
    }
  }
}
