package io.tracelet.benchmarks.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A smoke test of the end-to-end tier's server: each in-process mode serves a real request over
 * loopback TCP, and its tracer (or the absence of one) shows. No load, no timing; the figures come
 * from {@code benchmarks/e2e.sh}.
 */
class E2eServerTest {
  private static final String TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";

  private final HttpClient client =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

  @Test
  void none_servesHello_withoutTracingHeaders() throws Exception {
    try (E2eServer server = E2eServer.create(E2eServer.Mode.NONE, 0)) {
      server.start();
      HttpResponse<String> response = get(server);
      assertThat(response.statusCode()).isEqualTo(200);
      assertThat(response.body()).isEqualTo("hello");
      assertThat(response.headers().firstValue("traceresponse")).isEmpty();
      assertThat(response.headers().firstValue("X-Request-ID")).isEmpty();
      assertThat(server.spansRecorded()).isZero();
    }
  }

  @Test
  void sameHeaders_writesBothHeaders_withoutTracing() throws Exception {
    try (E2eServer server = E2eServer.create(E2eServer.Mode.SAME_HEADERS, 0)) {
      server.start();
      HttpResponse<String> response = get(server);
      assertThat(response.statusCode()).isEqualTo(200);
      assertThat(response.body()).isEqualTo("hello");
      // Values as long as Tracelet's: the control differs from tracelet-no-headers only in them.
      assertThat(response.headers().firstValue("traceresponse"))
          .hasValueSatisfying(v -> assertThat(v).hasSize(55));
      assertThat(response.headers().firstValue("X-Request-ID"))
          .hasValueSatisfying(v -> assertThat(v).hasSize(32));
      assertThat(server.spansRecorded()).isZero();
    }
  }

  @Test
  void tracelet_continuesTheTrace_andRecordsTheSpan() throws Exception {
    try (E2eServer server = E2eServer.create(E2eServer.Mode.TRACELET, 0)) {
      server.start();
      HttpResponse<String> response = get(server);
      assertThat(response.statusCode()).isEqualTo(200);
      assertThat(response.body()).isEqualTo("hello");
      assertThat(response.headers().firstValue("traceresponse"))
          .hasValueSatisfying(
              v -> assertThat(v).startsWith("00-" + TRACE_ID + "-").endsWith("-01"));
      assertThat(response.headers().firstValue("X-Request-ID")).isPresent();
      assertThat(spansOnceEnded(server)).isEqualTo(1);
    }
  }

  @Test
  void brave_recordsTheSpan() throws Exception {
    try (E2eServer server = E2eServer.create(E2eServer.Mode.BRAVE, 0)) {
      server.start();
      HttpResponse<String> response = get(server);
      assertThat(response.statusCode()).isEqualTo(200);
      assertThat(response.body()).isEqualTo("hello");
      assertThat(spansOnceEnded(server)).isEqualTo(1);
    }
  }

  @ParameterizedTest
  @EnumSource(
      value = E2eServer.Mode.class,
      names = {"OTEL_MINIMAL", "TRACELET_NO_DISCONNECT", "TRACELET_NO_TIMEOUT", "TRACELET_NO_MDC"})
  void openTelemetryModes_serveHello_andRecordTheSpan(E2eServer.Mode mode) throws Exception {
    try (E2eServer server = E2eServer.create(mode, 0)) {
      server.start();
      HttpResponse<String> response = get(server);
      assertThat(response.statusCode()).isEqualTo(200);
      assertThat(response.body()).isEqualTo("hello");
      assertThat(spansOnceEnded(server)).isEqualTo(1);
    }
  }

  @ParameterizedTest
  @EnumSource(
      value = E2eServer.Mode.class,
      names = {"TRACELET_NO_HEADERS", "TRACELET_BARE"})
  void modesWithoutHeaders_recordTheSpan_withoutResponseHeaders(E2eServer.Mode mode)
      throws Exception {
    try (E2eServer server = E2eServer.create(mode, 0)) {
      server.start();
      HttpResponse<String> response = get(server);
      assertThat(response.statusCode()).isEqualTo(200);
      assertThat(response.body()).isEqualTo("hello");
      assertThat(response.headers().firstValue("traceresponse")).isEmpty();
      assertThat(response.headers().firstValue("X-Request-ID")).isEmpty();
      assertThat(spansOnceEnded(server)).isEqualTo(1);
    }
  }

  @ParameterizedTest
  @EnumSource(E2eServer.Mode.class)
  void parse_acceptsTheScriptsName(E2eServer.Mode mode) {
    assertThat(E2eServer.Mode.parse(mode.key())).isSameAs(mode);
  }

  @Test
  void unknownMode_failsWithTheChoices() {
    assertThatThrownBy(() -> E2eServer.Mode.parse("jaeger"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'jaeger'")
        .hasMessageContaining("none, tracelet, brave, otel-minimal, tracelet-no-disconnect");
  }

  /**
   * The client can read the response before the filter has ended the span (the body is complete
   * once written), so wait for the span instead of racing it.
   */
  private static long spansOnceEnded(E2eServer server) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    long spans = server.spansRecorded();
    while (spans == 0 && System.nanoTime() < deadline) {
      Thread.sleep(10);
      spans = server.spansRecorded();
    }
    return spans;
  }

  private HttpResponse<String> get(E2eServer server) throws Exception {
    HttpRequest request =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/hello"))
            .header("traceparent", "00-" + TRACE_ID + "-00f067aa0ba902b7-01")
            .header("b3", TRACE_ID + "-00f067aa0ba902b7-1")
            .timeout(Duration.ofSeconds(10))
            .build();
    return client.send(request, HttpResponse.BodyHandlers.ofString());
  }
}
