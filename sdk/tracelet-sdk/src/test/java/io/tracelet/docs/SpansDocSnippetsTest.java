package io.tracelet.docs;

import static org.assertj.core.api.Assertions.assertThat;

import io.opentelemetry.api.GlobalOpenTelemetry;
import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.context.Context;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.tracelet.logging.TraceletMdc;
import io.tracelet.sdk.SpanLog;
import io.tracelet.sdk.SpanTree;
import io.tracelet.sdk.TraceletOpenTelemetry;
import io.tracelet.testing.LogCapture;
import io.tracelet.testing.TestTracing;
import io.tracelet.trace.SpanScope;
import io.tracelet.trace.Spans;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.Test;

/**
 * The code blocks of docs/spans.md, compiled and run. Each block between {@code // snippet: name}
 * and {@code // end} here must equal the block after {@code <!-- snippet:name -->} in the markdown.
 */
class SpansDocSnippetsTest {

  @Test
  void helpers() throws Exception {
    try (TestTracing tracing = new TestTracing()) {
      OpenTelemetry openTelemetry = tracing.openTelemetry();
      // snippet: helpers
      Spans spans = Spans.create(openTelemetry); // or Spans.global()
      try (SpanScope scope = spans.start("validateOrder")) {
        scope.span().setAttribute("order.items", 3);
      } // ends the span and restores the previous context
      int total = spans.call("priceOrder", () -> 42); // records and rethrows failures
      // end-snippet
      assertThat(total).isEqualTo(42);
      assertThat(tracing.exporter.getFinishedSpanItems()).hasSize(2);
    }
  }

  @Test
  void executorHop() throws Exception {
    try (TestTracing tracing = new TestTracing()) {
      Spans spans = Spans.create(tracing.openTelemetry());
      // snippet: executor
      ExecutorService pool = Context.taskWrapping(Executors.newFixedThreadPool(4));
      try (SpanScope request = spans.start("request")) {
        pool.submit(() -> spans.run("sendEmail", () -> {})).get();
      }
      pool.shutdown();
      // end-snippet
      assertThat(tracing.exporter.getFinishedSpanItems()).hasSize(2);
    }
  }

  @Test
  void processors() {
    try (LogCapture spanLog = LogCapture.info(SpanLog.LOGGER_NAME)) {
      // snippet: processors
      SdkTracerProvider tracerProvider =
          SdkTracerProvider.builder()
              .addSpanProcessor(SpanLog.create(SpanLog.Mode.END))
              .addSpanProcessor(SpanTree.builder().setMaxSpansPerTree(256).build())
              .build();
      // end-snippet
      // What the snippet promises: every ended span reaches the span log.
      tracerProvider.get("docs").spanBuilder("checkout").startSpan().end();
      tracerProvider.close();
      assertThat(spanLog.messages()).anySatisfy(line -> assertThat(line).contains("checkout"));
    }
  }

  @Test
  void setup() {
    GlobalOpenTelemetry.resetForTest();
    try {
      // snippet: setup
      TraceletMdc.install(); // first line of main: only needed without the service provider
      try (TraceletOpenTelemetry otel = TraceletOpenTelemetry.initialize()) {
        Spans.global().run("startup", () -> {});
      } // flushes pending spans (bounded, 5 s by default)
      // end-snippet
      assertThat(TraceletMdc.isActive()).isTrue();
    } finally {
      GlobalOpenTelemetry.resetForTest();
    }
  }
}
