package io.tracelet.example;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.opentelemetry.api.GlobalOpenTelemetry;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.testing.exporter.InMemoryMetricReader;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Issue 7, sections 4 and 6, against a real Jaeger ({@link JaegerServer}): nothing is lost under
 * concurrent load, and export resumes after Jaeger is stopped and started again.
 */
class JaegerReliabilityTest {

  private static final int REQUESTS = 200;
  private static final int CLIENTS = 16;

  private static JaegerServer jaeger;

  @BeforeAll
  static void startJaeger() throws Exception {
    jaeger = JaegerServer.start("jaeger-reliability-run");
  }

  @AfterAll
  static void stopJaeger() throws Exception {
    if (jaeger != null) {
      jaeger.close();
    }
  }

  @AfterEach
  void resetGlobal() {
    GlobalOpenTelemetry.resetForTest();
  }

  @Test
  void concurrentRequests_produceExactlyOneServerSpanEach_withTheirChildren() throws Exception {
    String service = "tracelet-nothing-lost";
    Set<String> traceIds = new HashSet<>();
    InMemoryMetricReader metrics = MetricCapture.arm(); // the order service's SDK
    ExampleApp app = start(service, "http/protobuf", Map.of());
    try {
      ExecutorService clients = Executors.newFixedThreadPool(CLIENTS);
      try {
        List<Future<String>> sent = new ArrayList<>();
        for (int i = 0; i < REQUESTS; i++) {
          String requestId = "nothing-lost-" + i;
          sent.add(clients.submit(() -> JaegerEndToEndTest.send(app, "/order", requestId, 200)));
        }
        for (Future<String> traceId : sent) {
          traceIds.add(traceId.get(60, TimeUnit.SECONDS));
        }
      } finally {
        clients.shutdownNow();
      }
      // Nothing was dropped for want of queue space on our side.
      assertThat(ExporterFaultTest.processedSpans(metrics.collectAllMetrics(), true)).isZero();
    } finally {
      app.close(); // the normal shutdown path flushes what the batch processors still hold
      GlobalOpenTelemetry.resetForTest();
    }
    assertThat(traceIds).hasSize(REQUESTS);

    // Everything the exporter sent is in Jaeger once its own pipeline has stored it (bounded wait).
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    Map<String, JsonNode> found;
    do {
      found = new HashMap<>();
      for (JsonNode trace : jaeger.search(service, "GET /order", 10 * REQUESTS)) {
        found.put(trace.get("traceID").asText(), trace);
      }
    } while (!complete(found, traceIds) && System.nanoTime() - end < 0 && pause());

    assertThat(found.keySet()).isEqualTo(traceIds);
    Map<String, List<String>> incomplete = new HashMap<>();
    for (JsonNode trace : found.values()) {
      List<String> names = new ArrayList<>();
      trace.get("spans").forEach(span -> names.add(span.get("operationName").asText()));
      if (!names.containsAll(JaegerEndToEndTest.ORDER_TREE.keySet()) || names.size() != 9) {
        incomplete.put(trace.get("traceID").asText(), names);
      }
    }
    assertThat(incomplete).as("traces without all their spans").isEmpty();
    int orderServerSpans = 0;
    int paymentsServerSpans = 0;
    for (JsonNode trace : found.values()) {
      // Exactly the tree of one /order request: one server span per service, all children.
      assertThat(JaegerServer.parentNames(trace))
          .containsExactlyInAnyOrderEntriesOf(JaegerEndToEndTest.ORDER_TREE);
      for (JsonNode span : trace.get("spans")) {
        if ("server".equals(JaegerServer.tag(span, "span.kind"))) {
          String spanService =
              trace
                  .get("processes")
                  .get(span.get("processID").asText())
                  .get("serviceName")
                  .asText();
          if (spanService.equals(service)) {
            orderServerSpans++;
          } else if (spanService.equals(ExampleApp.PAYMENTS_SERVICE_NAME)) {
            paymentsServerSpans++;
          }
        }
      }
    }
    assertThat(orderServerSpans).isEqualTo(REQUESTS);
    assertThat(paymentsServerSpans).isEqualTo(REQUESTS);
    System.out.printf(
        "nothing lost: %d concurrent /order requests -> %d traces, %d + %d server spans, %d"
            + " spans in Jaeger%n",
        REQUESTS,
        found.size(),
        orderServerSpans,
        paymentsServerSpans,
        found.values().stream().mapToInt(t -> t.get("spans").size()).sum());
  }

  @ParameterizedTest(name = "OTLP over {0}")
  @ValueSource(strings = {"http/protobuf", "grpc"})
  void spansSentAfterJaegerRestarts_arrive(String protocol) throws Exception {
    String suffix = protocol.equals("grpc") ? "grpc" : "http";
    // A short schedule delay, so each phase's spans are exported while that phase lasts; a short
    // exporter timeout (retries included), so the flush while Jaeger is down gives up sooner.
    ExampleApp app =
        start(
            "tracelet-restart-" + suffix,
            protocol,
            Map.of("otel.bsp.schedule.delay", "100", "otel.exporter.otlp.timeout", "3000"));
    try {
      String before = JaegerEndToEndTest.send(app, "/order", "restart-before-" + suffix, 200);
      assertThat(JaegerServer.parentNames(jaeger.trace(before, 9)))
          .containsExactlyInAnyOrderEntriesOf(JaegerEndToEndTest.ORDER_TREE);

      jaeger.stop();
      List<String> whileDown = new ArrayList<>();
      for (int i = 0; i < 3; i++) {
        // Served as usual while every export fails.
        whileDown.add(
            JaegerEndToEndTest.send(app, "/order", "restart-down-" + suffix + "-" + i, 200));
      }
      // Let the processor try (and fail) to export them before Jaeger is back.
      ((OpenTelemetrySdk) app.openTelemetry())
          .getSdkTracerProvider()
          .forceFlush()
          .join(10, TimeUnit.SECONDS);

      jaeger.start();
      List<String> after = new ArrayList<>();
      for (int i = 0; i < 3; i++) {
        after.add(JaegerEndToEndTest.send(app, "/order", "restart-after-" + suffix + "-" + i, 200));
      }
      for (String traceId : after) {
        assertThat(JaegerServer.parentNames(jaeger.trace(traceId, 9)))
            .containsExactlyInAnyOrderEntriesOf(JaegerEndToEndTest.ORDER_TREE);
      }
      int arrivedWhileDown = 0;
      for (String traceId : whileDown) {
        arrivedWhileDown += jaeger.hasTrace(traceId) ? 1 : 0;
      }
      System.out.printf(
          "Jaeger restart (%s): %d/%d traces sent after the restart arrived complete; %d/%d sent"
              + " while it was down arrived (the exporter retries a failed export for a while)%n",
          protocol, after.size(), after.size(), arrivedWhileDown, whileDown.size());
    } finally {
      app.close();
      GlobalOpenTelemetry.resetForTest();
    }
  }

  private static ExampleApp start(String service, String protocol, Map<String, String> extra)
      throws Exception {
    GlobalOpenTelemetry.resetForTest();
    Map<String, String> properties = new HashMap<>(extra);
    properties.put("otel.traces.exporter", "otlp");
    properties.put("otel.exporter.otlp.protocol", protocol);
    properties.put("otel.exporter.otlp.endpoint", jaeger.otlpEndpoint(protocol));
    properties.put("otel.service.name", service);
    return ExampleApp.start(
        new ExampleApp.Options(
            "127.0.0.1",
            0,
            0,
            "jdbc:h2:mem:" + service + "-" + System.nanoTime() + ";DB_CLOSE_DELAY=-1",
            properties));
  }

  /** Whether every expected trace is there with all 9 spans of an /order request. */
  private static boolean complete(Map<String, JsonNode> found, Set<String> expected) {
    if (!found.keySet().containsAll(expected)) {
      return false;
    }
    return found.values().stream()
        .allMatch(t -> t.get("spans").size() >= JaegerEndToEndTest.ORDER_TREE.size());
  }

  private static boolean pause() throws InterruptedException {
    Thread.sleep(200);
    return true;
  }
}
