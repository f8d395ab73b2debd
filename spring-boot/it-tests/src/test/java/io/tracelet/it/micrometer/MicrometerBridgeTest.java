package io.tracelet.it.micrometer;

import static io.tracelet.it.Apps.get;
import static io.tracelet.it.Apps.serverSpans;
import static io.tracelet.it.Apps.traceIdOf;
import static org.assertj.core.api.Assertions.assertThat;

import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.SpanProcessor;
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
 * The starter beside Micrometer Tracing with the OpenTelemetry bridge (Spring's {@code
 * ServerHttpObservationFilter} starts a server span before ours): still one server span per
 * request, Spring's, which the filter joins; the IDs in the response are that span's.
 */
class MicrometerBridgeTest {
  static final InMemorySpanExporter SPANS = InMemorySpanExporter.create();
  private static ConfigurableApplicationContext app;

  /** Spring Boot's SDK sends every span to this processor too. */
  @Configuration(proxyBeanMethods = false)
  static class Capture {
    @Bean
    SpanProcessor memorySpans() {
      return SimpleSpanProcessor.create(SPANS);
    }
  }

  @BeforeAll
  static void start() {
    app =
        Apps.start(
            new Class<?>[] {TestApp.class, Capture.class},
            "management.tracing.sampling.probability=1.0",
            "management.otlp.metrics.export.enabled=false",
            "management.opentelemetry.tracing.export.otlp.enabled=false",
            "management.otlp.tracing.export.enabled=false",
            "management.tracing.export.otlp.enabled=false");
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
  void theFilter_usesSpringBootsOpenTelemetry() {
    assertThat(app.getBean(TracingConfig.class).openTelemetry())
        .isSameAs(app.getBean(OpenTelemetry.class));
  }

  @Test
  void aRequest_hasOneServerSpan_springsWithTheRoute_andTheIdsAreItsOwn() throws Exception {
    HttpResponse<String> response = get(app, "/orders/9", "X-Request-ID", "mm-1");
    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.body()).isEqualTo("order 9 for request mm-1");
    SpanData span = Apps.onlyServerSpan(SPANS);
    assertThat(span.getName()).contains("/orders/{id}");
    assertThat(traceIdOf(response.headers().firstValue("traceresponse").orElseThrow()))
        .isEqualTo(span.getTraceId());
    assertThat(response.headers().firstValue("X-Request-ID")).hasValue("mm-1");
    assertThat(app.getBean(TracingFilter.class).joinedContextCount()).isPositive();
    assertThat(app.getBean(TracingFilter.class).leakedContextCount()).isZero();
  }

  @Test
  void a401FromSpringSecurity_hasOneServerSpan_andTheIds() throws Exception {
    HttpResponse<String> response = get(app, "/secure/data");
    assertThat(response.statusCode()).isEqualTo(401);
    SpanData span = Apps.onlyServerSpan(SPANS);
    assertThat(response.headers().firstValue("X-Request-ID")).isPresent();
    assertThat(traceIdOf(response.headers().firstValue("traceresponse").orElseThrow()))
        .isEqualTo(span.getTraceId());
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
