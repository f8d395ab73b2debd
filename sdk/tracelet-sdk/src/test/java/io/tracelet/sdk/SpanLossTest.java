package io.tracelet.sdk;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import io.opentelemetry.api.GlobalOpenTelemetry;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.metrics.SdkMeterProvider;
import io.opentelemetry.sdk.metrics.data.LongPointData;
import io.opentelemetry.sdk.metrics.data.MetricData;
import io.opentelemetry.sdk.testing.exporter.InMemoryMetricReader;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.BatchSpanProcessor;
import io.opentelemetry.sdk.trace.export.SpanExporter;
import io.tracelet.testing.LogCapture;
import java.io.IOException;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * Lost spans are said (issue 15 §2): a WARN at most once a minute, with the counts since the last
 * one and the exporter's last error, for exports that failed and for spans the batch processor
 * dropped from its full queue; the same counts as metrics. Real SDK, real batch span processor, a
 * fake clock for the minute.
 */
class SpanLossTest {

  private static final long MINUTE = TimeUnit.MINUTES.toNanos(1);

  private final AtomicLong clock = new AtomicLong(1_000);
  private final SpanLoss loss = new SpanLoss(clock::get);
  private final InMemoryMetricReader metrics = InMemoryMetricReader.create();
  private final SdkMeterProvider meterProvider =
      SdkMeterProvider.builder()
          .registerMetricReader(metrics)
          .registerMetricReader(loss.reader())
          .build();
  private final LogCapture log = new LogCapture(TraceletOpenTelemetry.class.getName(), Level.INFO);
  private OpenTelemetrySdk sdk;

  @AfterEach
  void close() {
    log.close();
    if (sdk != null) {
      sdk.close();
    }
    GlobalOpenTelemetry.resetForTest();
  }

  /** An exporter that fails every export, with a message a collector could have written. */
  static final class FailingExporter implements SpanExporter {
    @Override
    public CompletableResultCode export(Collection<SpanData> spans) {
      return CompletableResultCode.ofExceptionalFailure(
          new IOException(
              "collector answered 503:\r\nFAKE LOG LINE",
              new IllegalStateException("upstream \u2028 down")));
    }

    @Override
    public CompletableResultCode flush() {
      return CompletableResultCode.ofSuccess();
    }

    @Override
    public CompletableResultCode shutdown() {
      return CompletableResultCode.ofSuccess();
    }
  }

  /** An exporter that blocks its first export until released, as a stuck collector does. */
  static class BlockedExporter implements SpanExporter {
    final CountDownLatch entered = new CountDownLatch(1);
    final CountDownLatch release = new CountDownLatch(1);

    @Override
    public CompletableResultCode export(Collection<SpanData> spans) {
      entered.countDown();
      try {
        release.await(10, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      return CompletableResultCode.ofSuccess();
    }

    @Override
    public CompletableResultCode flush() {
      return CompletableResultCode.ofSuccess();
    }

    @Override
    public CompletableResultCode shutdown() {
      return CompletableResultCode.ofSuccess();
    }
  }

  private Tracer sdkWith(SpanExporter exporter, int maxQueueSize) {
    sdk =
        OpenTelemetrySdk.builder()
            .setMeterProvider(meterProvider)
            .setTracerProvider(
                SdkTracerProvider.builder()
                    .addSpanProcessor(
                        BatchSpanProcessor.builder(countReturns(loss.wrap(exporter)))
                            // As autoconfigure does: the processor counts on the SDK's meters.
                            .setMeterProvider(() -> meterProvider)
                            .setMaxQueueSize(maxQueueSize)
                            .setMaxExportBatchSize(1)
                            .setScheduleDelay(Duration.ofHours(1))
                            .build())
                    .build())
            .build();
    loss.registerMetrics(meterProvider);
    return sdk.getTracer("test");
  }

  private final AtomicInteger returned = new AtomicInteger();
  // A permit per export that returned; awaitExports takes those it has not taken yet.
  private final Semaphore exportsReturned = new Semaphore(0);
  private int exportsAwaited;

  private SpanExporter countReturns(SpanExporter exporter) {
    return new SpanExporter() {
      @Override
      public CompletableResultCode export(Collection<SpanData> spans) {
        try {
          return exporter.export(spans);
        } finally {
          returned.incrementAndGet();
          exportsReturned.release();
        }
      }

      @Override
      public CompletableResultCode flush() {
        return exporter.flush();
      }

      @Override
      public CompletableResultCode shutdown() {
        return exporter.shutdown();
      }
    };
  }

  private void spans(Tracer tracer, int n) {
    for (int i = 0; i < n; i++) {
      tracer.spanBuilder("s" + i).startSpan().end();
    }
  }

  /**
   * Waits (bounded) until {@code exports} exports in all have returned (and so been counted and
   * reported: the test exporters complete their results before returning). Not forceFlush alone:
   * the batch processor's forceFlush may return the previous flush's result when called right after
   * it completed, before the new spans are exported.
   */
  private void awaitExports(int exports) throws InterruptedException {
    sdk.getSdkTracerProvider().forceFlush().join(10, TimeUnit.SECONDS);
    int more = exports - exportsAwaited;
    assertThat(exportsReturned.tryAcquire(more, 10, TimeUnit.SECONDS))
        .as("%d more export(s) returned within 10 s", more)
        .isTrue();
    exportsAwaited = exports;
    assertThat(returned.get()).isEqualTo(exports);
  }

  private List<String> warnings() {
    return log.events().stream()
        .filter(e -> e.getLevel() == Level.WARN)
        .map(ILoggingEvent::getFormattedMessage)
        .toList();
  }

  @Test
  void failedExports_warnAtOnce_thenAtMostOnceAMinute_withTheCountsSinceTheLastLine()
      throws Exception {
    FailingExporter exporter = new FailingExporter();
    Tracer tracer = sdkWith(exporter, 100);

    spans(tracer, 1);
    awaitExports(1);
    assertThat(warnings())
        .singleElement()
        .asString()
        .contains("spans lost since start-up: 1 exports failed (1 spans).")
        .contains("java.io.IOException: collector answered 503:??FAKE LOG LINE")
        .contains("caused by java.lang.IllegalStateException: upstream ? down");

    // Thirty seconds later: counted, not said.
    clock.addAndGet(MINUTE / 2);
    spans(tracer, 2);
    awaitExports(3);
    assertThat(warnings()).hasSize(1);

    // A minute after the first line: said, with what was lost since it.
    clock.addAndGet(MINUTE / 2);
    spans(tracer, 1);
    awaitExports(4);
    assertThat(warnings()).hasSize(2);
    assertThat(warnings().get(1))
        .contains("spans lost since the last such line: 3 exports failed (3 spans).");

    assertThat(counter(SpanLoss.FAILED_EXPORTS)).isEqualTo(4);
    assertThat(counter(SpanLoss.LOST_SPANS)).isEqualTo(4);
  }

  @Test
  void warning_neverCarriesALineBreakFromTheError() throws Exception {
    FailingExporter exporter = new FailingExporter();
    Tracer tracer = sdkWith(exporter, 100);
    spans(tracer, 1);
    awaitExports(1);
    assertThat(warnings()).singleElement().asString().doesNotContain("\r", "\n", "\u2028");
  }

  @Test
  void fullQueue_dropsAreSaid_fromTheProcessorsOwnCount_andAreAMetric() throws Exception {
    BlockedExporter exporter = new BlockedExporter();
    Tracer tracer = sdkWith(exporter, 2);

    spans(tracer, 1);
    // The worker has taken the first span and is stuck exporting it: the queue is empty.
    assertThat(exporter.entered.await(10, TimeUnit.SECONDS)).isTrue();
    spans(tracer, 2 + 5); // two fit in the queue, five are dropped
    exporter.release.countDown();
    awaitExports(3);

    assertThat(warnings())
        .singleElement()
        .asString()
        .contains("spans lost since start-up: 5 spans dropped, the batch span processor's queue")
        .contains("last error: none")
        .doesNotContain("exports failed");
    // The same count, as the SDK's own metric.
    assertThat(
            sum(
                "processedSpans",
                p ->
                    Boolean.TRUE.equals(p.getAttributes().get(AttributeKey.booleanKey("dropped")))))
        .isEqualTo(5);
  }

  @Test
  void shutdown_saysWhatWasLostSinceTheLastLine_withoutWaitingTheMinute() throws Exception {
    FailingExporter exporter = new FailingExporter();
    Tracer tracer = sdkWith(exporter, 100);
    spans(tracer, 1);
    awaitExports(1);
    spans(tracer, 1);
    awaitExports(2);
    assertThat(warnings()).hasSize(1);

    loss.reportRemaining();
    assertThat(warnings()).hasSize(2);
    assertThat(warnings().get(1)).contains("since the last such line: 1 exports failed (1 spans)");
    // Nothing new: nothing more said.
    loss.reportRemaining();
    assertThat(warnings()).hasSize(2);
  }

  /** Fails its first export (a WARN at once), then blocks the next one until released. */
  static final class FailThenBlockExporter extends BlockedExporter {
    private final AtomicInteger exports = new AtomicInteger();

    @Override
    public CompletableResultCode export(Collection<SpanData> spans) {
      if (exports.incrementAndGet() == 1) {
        return CompletableResultCode.ofExceptionalFailure(new IOException("collector down"));
      }
      return super.export(spans);
    }
  }

  @Test
  void dropsWithinTheMinute_areSaidAtShutdown_afterTheMeterProviderClosed() throws Exception {
    FailThenBlockExporter exporter = new FailThenBlockExporter();
    Tracer tracer = sdkWith(exporter, 2);
    spans(tracer, 1);
    awaitExports(1);
    assertThat(warnings()).singleElement().asString().contains("1 exports failed");
    // Within the same minute: the worker is stuck on the next span, two fit in the queue, five
    // are dropped, and nothing is said yet.
    spans(tracer, 1);
    assertThat(exporter.entered.await(10, TimeUnit.SECONDS)).isTrue();
    spans(tracer, 2 + 5);
    exporter.release.countDown();
    awaitExports(4);
    assertThat(warnings()).hasSize(1);

    // As TraceletOpenTelemetry.close() does: the SDK (its meter provider too) shuts down first.
    sdk.shutdown().join(10, TimeUnit.SECONDS);
    loss.reportRemaining();
    assertThat(warnings()).hasSize(2);
    assertThat(warnings().get(1))
        .contains("since the last such line: 5 spans dropped")
        .doesNotContain("exports failed");
  }

  @Test
  void nothingLost_nothingSaid() throws Exception {
    BlockedExporter exporter = new BlockedExporter();
    exporter.release.countDown();
    Tracer tracer = sdkWith(exporter, 100);
    spans(tracer, 3);
    awaitExports(3);
    clock.addAndGet(2 * MINUTE);
    spans(tracer, 1);
    awaitExports(4);
    loss.reportRemaining();
    assertThat(warnings()).isEmpty();
  }

  @Test
  void otlpToAClosedPort_isSaidWhileRunning_notOnlyAtShutdown() throws Exception {
    GlobalOpenTelemetry.resetForTest();
    // Counted down by the first WARN the span-loss report writes (on the exporter's thread).
    CountDownLatch warned = new CountDownLatch(1);
    AppenderBase<ILoggingEvent> onWarn =
        new AppenderBase<>() {
          @Override
          protected void append(ILoggingEvent event) {
            if (event.getLevel() == Level.WARN) {
              warned.countDown();
            }
          }
        };
    onWarn.start();
    Logger logger = (Logger) LoggerFactory.getLogger(TraceletOpenTelemetry.class);
    logger.addAppender(onWarn);
    try (TraceletOpenTelemetry otel =
        TraceletOpenTelemetry.builder()
            .setShutdownHook(false)
            .setClock(clock::get)
            // Only the endpoint, as the reproduction: OTLP is then the default exporter.
            .setProperty("otel.exporter.otlp.endpoint", "http://127.0.0.1:1")
            .setProperty("otel.java.exporter.otlp.retry.disabled", "true")
            .setProperty(TraceletOpenTelemetry.SPAN_LOG_PROPERTY, "off")
            .initialize()) {
      Tracer tracer = otel.openTelemetry().getTracer("test");
      spans(tracer, 3);
      OpenTelemetrySdk owned = (OpenTelemetrySdk) otel.openTelemetry();
      owned.getSdkTracerProvider().forceFlush().join(10, TimeUnit.SECONDS);
      assertThat(warned.await(10, TimeUnit.SECONDS)).as("a WARN within 10 s").isTrue();
      assertThat(warnings())
          .singleElement()
          .asString()
          .contains("exports failed (3 spans)")
          .contains("The exporter's last error: ")
          .contains("java.net.ConnectException")
          .doesNotContain("last error: none");
      assertThat(otel.spanLoss().lostSpans()).isEqualTo(3);
    } finally {
      logger.detachAppender(onWarn);
      onWarn.stop();
    }
  }

  private long counter(String name) {
    return sum(name, p -> true);
  }

  private long sum(String name, java.util.function.Predicate<LongPointData> which) {
    long total = 0;
    for (MetricData m : metrics.collectAllMetrics()) {
      if (m.getName().equals(name)) {
        for (LongPointData p : m.getLongSumData().getPoints()) {
          if (which.test(p)) {
            total += p.getValue();
          }
        }
      }
    }
    return total;
  }
}
