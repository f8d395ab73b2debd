package io.tracelet.it.otelstarter;

import static io.tracelet.it.Apps.get;
import static io.tracelet.it.Apps.serverSpans;
import static io.tracelet.it.Apps.traceIdOf;
import static org.assertj.core.api.Assertions.assertThat;

import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.sdk.autoconfigure.spi.AutoConfigurationCustomizerProvider;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import io.tracelet.it.Apps;
import io.tracelet.it.Signals;
import io.tracelet.it.TestApp;
import io.tracelet.servlet.TracingConfig;
import io.tracelet.servlet.TracingFilter;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * The starter beside OpenTelemetry's Spring Boot starter 2.31.1 (its Spring MVC filter starts the
 * server span before ours): one server span per request, OpenTelemetry's, which the filter joins.
 */
class OtelStarterTest {
  static final InMemorySpanExporter SPANS = InMemorySpanExporter.create();
  private static ConfigurableApplicationContext app;

  /** OpenTelemetry's starter sends every span to this processor too. */
  @Configuration(proxyBeanMethods = false)
  static class Capture {
    @Bean
    AutoConfigurationCustomizerProvider memorySpans() {
      return customizer ->
          customizer.addTracerProviderCustomizer(
              (builder, config) -> builder.addSpanProcessor(SimpleSpanProcessor.create(SPANS)));
    }
  }

  @BeforeAll
  static void start() {
    app =
        Apps.start(
            new Class<?>[] {TestApp.class, Capture.class},
            "otel.traces.exporter=none",
            "otel.metrics.exporter=none",
            "otel.logs.exporter=none");
  }

  @AfterAll
  static void stop() {
    Signals.reset();
    if (app != null) {
      app.close();
    }
  }

  @BeforeEach
  void clear() {
    Signals.reset();
    SPANS.reset();
  }

  @Test
  void theFilter_usesTheStartersOpenTelemetry() {
    assertThat(app.getBean(TracingConfig.class).openTelemetry())
        .isSameAs(app.getBean(OpenTelemetry.class));
  }

  @Test
  void aRequest_hasOneServerSpan_openTelemetrysWithTheRoute_andTheIdsAreItsOwn() throws Exception {
    HttpResponse<String> response = get(app, "/orders/5", "X-Request-ID", "otel-1");
    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.body()).isEqualTo("order 5 for request otel-1");
    SpanData span = Apps.onlyServerSpan(SPANS);
    assertThat(span.getName()).isEqualTo("GET /orders/{id}");
    assertThat(traceIdOf(response.headers().firstValue("traceresponse").orElseThrow()))
        .isEqualTo(span.getTraceId());
    assertThat(response.headers().firstValue("X-Request-ID")).hasValue("otel-1");
    assertThat(app.getBean(TracingFilter.class).joinedContextCount()).isPositive();
  }

  @Test
  void a401FromSpringSecurity_hasOneServerSpan_andTheIds() throws Exception {
    HttpResponse<String> response = get(app, "/secure/data");
    assertThat(response.statusCode()).isEqualTo(401);
    Apps.onlyServerSpan(SPANS);
    assertThat(response.headers().firstValue("X-Request-ID")).isPresent();
  }

  @Test
  void theDeadline_stillAnswers504() throws Exception {
    HttpResponse<String> response = get(app, "/wait", "X-Request-Timeout-Ms", "300");
    assertThat(response.statusCode()).isEqualTo(504);
    assertThat(response.body()).contains("\"status\":504");
    // The span ends after the answer; wait, so that it does not reach the next test.
    Apps.await("the server span", () -> !serverSpans(SPANS.getFinishedSpanItems()).isEmpty());
  }
}
