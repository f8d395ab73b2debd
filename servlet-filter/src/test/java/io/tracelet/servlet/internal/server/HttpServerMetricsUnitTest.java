package io.tracelet.servlet.internal.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.metrics.SdkMeterProvider;
import io.opentelemetry.sdk.metrics.data.HistogramPointData;
import io.opentelemetry.sdk.metrics.data.MetricData;
import io.opentelemetry.sdk.testing.exporter.InMemoryMetricReader;
import io.opentelemetry.semconv.ErrorAttributes;
import io.opentelemetry.semconv.HttpAttributes;
import io.opentelemetry.semconv.NetworkAttributes;
import io.opentelemetry.semconv.UrlAttributes;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@link HttpServerMetrics} without a container: what is enabled, bounded and spelled how. */
class HttpServerMetricsUnitTest {

  private final InMemoryMetricReader reader = InMemoryMetricReader.create();
  private final OpenTelemetrySdk sdk =
      OpenTelemetrySdk.builder()
          .setMeterProvider(
              SdkMeterProvider.builder()
                  // Above the SDK's default of 2000 series, for the cache-bound test.
                  .registerMetricReader(reader, type -> 10_000)
                  .build())
          .build();

  @Test
  void noopMeterProvider_recordsNothing() {
    assertThat(new HttpServerMetrics(OpenTelemetry.noop(), new HttpSemconv()).isEnabled())
        .isFalse();
    try (OpenTelemetrySdk noReader =
        OpenTelemetrySdk.builder().setMeterProvider(SdkMeterProvider.builder().build()).build()) {
      HttpServerMetrics m = new HttpServerMetrics(noReader, new HttpSemconv());
      assertThat(m.isEnabled()).isFalse();
      assertThat(m.key("GET", "http", "HTTP/1.1")).isEqualTo(HttpServerMetrics.NOT_RECORDED);
      assertThat(m.requestStarted(HttpServerMetrics.NOT_RECORDED)).isZero();
    }
    assertThat(new HttpServerMetrics(sdk, new HttpSemconv()).isEnabled()).isTrue();
  }

  @Test
  void forwardedSchemeAndProtocols_areBoundedAndSpelledAsTheConventionsSay() {
    HttpServerMetrics m = new HttpServerMetrics(sdk, new HttpSemconv());
    end(m, m.key("GET", "javascript", "HTTP/2.0"), 200, "/a");
    end(m, m.key("GET", "HTTPS", "HTTP/1.0"), 200, "/a");
    end(m, m.key("GET", "https", "SPDY/9"), 200, "/a");

    assertThat(points())
        .extracting(HistogramPointData::getAttributes)
        .containsExactlyInAnyOrder(
            expected("GET", "_OTHER", 200, "/a").toBuilder()
                .put(NetworkAttributes.NETWORK_PROTOCOL_VERSION, "2")
                .build(),
            expected("GET", "https", 200, "/a").toBuilder()
                .put(NetworkAttributes.NETWORK_PROTOCOL_VERSION, "1.0")
                .build(),
            expected("GET", "https", 200, "/a"));
  }

  @Test
  void fiveHundredWithoutException_hasItsStatusAsErrorType_aRareStatusIsNotCached() {
    HttpServerMetrics m = new HttpServerMetrics(sdk, new HttpSemconv());
    end(m, m.key("GET", "http", null), 503, null);
    end(m, m.key("GET", "http", null), 599, null);
    end(m, m.key("GET", "http", null), 0, null);

    assertThat(points())
        .extracting(HistogramPointData::getAttributes)
        .containsExactlyInAnyOrder(
            expected("GET", "http", 503, null).toBuilder()
                .put(ErrorAttributes.ERROR_TYPE, "503")
                .build(),
            expected("GET", "http", 599, null).toBuilder()
                .put(ErrorAttributes.ERROR_TYPE, "599")
                .build(),
            // A request that ended before it had a status (the filter's own failure).
            Attributes.of(
                HttpAttributes.HTTP_REQUEST_METHOD, "GET", UrlAttributes.URL_SCHEME, "http"));
  }

  @Test
  void beyondTheCacheBound_attributesAreStillRight() {
    HttpServerMetrics m = new HttpServerMetrics(sdk, new HttpSemconv());
    String[] methods = {"GET", "POST", "PUT", "DELETE", "PATCH"};
    // 1000 routes (HttpSemconv's bound) x 5 methods: more combinations than are cached.
    assertThat(HttpSemconv.MAX_ROUTES * methods.length)
        .isGreaterThan(HttpServerMetrics.MAX_CACHED_COMBINATIONS);
    for (int r = 0; r < HttpSemconv.MAX_ROUTES; r++) {
      for (String method : methods) {
        end(m, m.key(method, "http", null), 200, "/r" + r);
      }
    }
    List<HistogramPointData> points = points();
    assertThat(points).hasSize(HttpSemconv.MAX_ROUTES * methods.length);
    assertThat(points)
        .extracting(HistogramPointData::getAttributes)
        .contains(expected("PATCH", "http", 200, "/r999"), expected("GET", "http", 200, "/r0"));
  }

  /**
   * Issue 14: the usual request (a cached route and status) allocates nothing here, the SDK's
   * recording included. Allocation, not time, and counted exactly per thread by the JVM; the first
   * round warms the caches and the JIT up.
   */
  @Test
  void usualRequest_allocatesNothing_onceWarm() {
    HttpServerMetrics m = new HttpServerMetrics(sdk, new HttpSemconv());
    com.sun.management.ThreadMXBean threads =
        (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
    long thread = Thread.currentThread().getId();
    int requests = 100_000;
    double perRequest = -1;
    for (int round = 0; round < 3; round++) {
      long before = threads.getThreadAllocatedBytes(thread);
      for (int i = 0; i < requests; i++) {
        int key = m.key("GET", "http", "HTTP/1.1");
        long start = m.requestStarted(key);
        m.requestEnded(
            key, start, (i & 1) == 0 ? 200 : 404, null, null, true, false, false, null, "/items/*");
      }
      perRequest = (threads.getThreadAllocatedBytes(thread) - before) / (double) requests;
    }
    assertThat(perRequest).as("bytes allocated per request, last round").isLessThan(1.0);
  }

  private static void end(HttpServerMetrics m, int key, int status, String route) {
    m.requestEnded(key, m.requestStarted(key), status, null, null, true, false, false, route, null);
  }

  private static Attributes expected(String method, String scheme, int status, String route) {
    var b =
        Attributes.builder()
            .put(HttpAttributes.HTTP_REQUEST_METHOD, method)
            .put(UrlAttributes.URL_SCHEME, scheme)
            .put(HttpAttributes.HTTP_RESPONSE_STATUS_CODE, (long) status);
    if (route != null) {
      b.put(HttpAttributes.HTTP_ROUTE, route);
    }
    return b.build();
  }

  private List<HistogramPointData> points() {
    return reader.collectAllMetrics().stream()
        .filter(d -> d.getName().equals("http.server.request.duration"))
        .map(MetricData::getHistogramData)
        .flatMap(h -> h.getPoints().stream())
        .toList();
  }
}
