package io.tracelet.sdk;

import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.metrics.Meter;
import io.opentelemetry.api.metrics.MeterProvider;
import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.common.export.MemoryMode;
import io.opentelemetry.sdk.metrics.Aggregation;
import io.opentelemetry.sdk.metrics.InstrumentType;
import io.opentelemetry.sdk.metrics.data.AggregationTemporality;
import io.opentelemetry.sdk.metrics.data.LongPointData;
import io.opentelemetry.sdk.metrics.data.MetricData;
import io.opentelemetry.sdk.metrics.data.MetricDataType;
import io.opentelemetry.sdk.metrics.export.CollectionRegistration;
import io.opentelemetry.sdk.metrics.export.MetricReader;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SpanExporter;
import java.util.Collection;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Says when spans are lost on their way out, which OpenTelemetry's SDK otherwise only reports
 * through {@code java.util.logging} at shutdown or at FINE level: one WARN at most once a minute
 * with the counts since the last such line and the exporter's last error, for
 *
 * <ul>
 *   <li>spans the batch span processor dropped because its queue was full. The SDK counts them
 *       itself (its internal telemetry: {@code processedSpans} with {@code dropped=true}, or {@code
 *       otel.sdk.processor.span.processed} with {@code error.type=queue_full} under {@code
 *       otel.experimental.sdk.telemetry.version=latest}) on the SDK's meter provider; a private
 *       {@link MetricReader} on that provider reads the count back. No count of our own is kept:
 *       the queue is inside the processor, and its drops are visible nowhere else.
 *   <li>exports that failed, and so the spans they carried: counted by wrapping the exporter, the
 *       one place that sees each export's result and its {@link
 *       CompletableResultCode#getFailureThrowable() failure}.
 * </ul>
 *
 * The failed exports are also metrics ({@value #FAILED_EXPORTS}, {@value #LOST_SPANS}), as the
 * drops are the SDK's own. The checks run on the exporter's thread after each export, so no thread
 * of our own is needed; the clock is injectable so that tests need not wait a minute.
 */
final class SpanLoss {

  static final String FAILED_EXPORTS = "tracelet.span.export.failures";
  static final String LOST_SPANS = "tracelet.span.export.lost_spans";
  private static final String SCOPE = "io.tracelet.sdk";

  private static final Logger log = LoggerFactory.getLogger(TraceletOpenTelemetry.class);
  private static final long INTERVAL_NANOS = TimeUnit.MINUTES.toNanos(1);
  private static final int MAX_ERROR_LENGTH = 300;
  private static final AttributeKey<Boolean> LEGACY_DROPPED = AttributeKey.booleanKey("dropped");
  private static final AttributeKey<String> ERROR_TYPE = AttributeKey.stringKey("error.type");

  private final LongSupplier nanoClock;
  private final LongAdder failedExports = new LongAdder();
  private final LongAdder lostSpans = new LongAdder();
  private final DropReader reader = new DropReader();
  private volatile String lastError;
  // When the next periodic check for queue drops is due, and when the last WARN was logged.
  private volatile long nextCheck;
  private volatile long lastWarn;
  private volatile boolean warned;
  // Guarded by this: what the last WARN covered.
  private long reportedDrops;
  private long reportedExports;
  private long reportedSpans;
  private long knownDrops;

  SpanLoss(LongSupplier nanoClock) {
    this.nanoClock = nanoClock;
    this.nextCheck = nanoClock.getAsLong();
  }

  /** The reader to register on the SDK's meter provider, through which queue drops are read. */
  MetricReader reader() {
    return reader;
  }

  /** {@code exporter}, with its failed exports counted and reported. */
  SpanExporter wrap(SpanExporter exporter) {
    return new CountingExporter(exporter, this);
  }

  /** Publishes the failed-export counts on {@code meterProvider} (the SDK's). */
  void registerMetrics(MeterProvider meterProvider) {
    Meter meter = meterProvider.get(SCOPE);
    meter
        .counterBuilder(FAILED_EXPORTS)
        .setDescription("Span exports that failed; their spans are lost")
        .setUnit("{export}")
        .buildWithCallback(m -> m.record(failedExports.sum()));
    meter
        .counterBuilder(LOST_SPANS)
        .setDescription("Spans lost because their export failed")
        .setUnit("{span}")
        .buildWithCallback(m -> m.record(lostSpans.sum()));
  }

  long lostSpans() {
    return lostSpans.sum();
  }

  void exportFailed(int spans, Throwable error) {
    failedExports.increment();
    lostSpans.add(spans);
    lastError = describe(error);
    long now = nanoClock.getAsLong();
    // A failure is said at once, unless a WARN was logged less than a minute ago.
    if (!warned || now - lastWarn >= INTERVAL_NANOS) {
      report(now, false);
    }
  }

  void exportDone() {
    long now = nanoClock.getAsLong();
    if (now - nextCheck >= 0) {
      report(now, false);
    }
  }

  /** At shutdown: whatever was lost since the last WARN, without waiting for the minute. */
  void reportRemaining() {
    report(nanoClock.getAsLong(), true);
  }

  private synchronized void report(long now, boolean last) {
    if (!last && warned && now - lastWarn < INTERVAL_NANOS) {
      nextCheck = lastWarn + INTERVAL_NANOS;
      return;
    }
    nextCheck = now + INTERVAL_NANOS;
    // Never go back below what was already seen (the reader's last count is kept at shutdown).
    knownDrops = Math.max(knownDrops, reader.droppedSpans());
    long drops = knownDrops - reportedDrops;
    long exports = failedExports.sum() - reportedExports;
    long spans = lostSpans.sum() - reportedSpans;
    if (drops == 0 && exports == 0) {
      return;
    }
    StringBuilder what = new StringBuilder();
    if (exports > 0) {
      what.append(exports).append(" exports failed (").append(spans).append(" spans)");
    }
    if (drops > 0) {
      what.append(exports > 0 ? "; " : "")
          .append(drops)
          .append(" spans dropped, the batch span processor's queue was full (the exporter is")
          .append(" slower than spans come; otel.bsp.max.queue.size)");
    }
    log.warn(
        "Tracelet: spans lost since {}: {}. The exporter's last error: {}. Logged at most once a"
            + " minute; the counts are also metrics (docs/spans.md).",
        warned ? "the last such line" : "start-up",
        what,
        lastError == null ? "none" : lastError);
    reportedDrops = knownDrops;
    reportedExports += exports;
    reportedSpans += spans;
    lastWarn = now;
    warned = true;
  }

  /**
   * The failure as class names and messages, a few causes deep, each said once. A message may quote
   * what a collector answered, so it is made safe for one log line (no control characters) and
   * bounded.
   */
  static String describe(Throwable error) {
    if (error == null) {
      return "the exporter reported a failure without an exception";
    }
    StringBuilder out = new StringBuilder();
    String previous = null;
    Throwable t = error;
    for (int depth = 0; t != null && depth < 6; depth++, t = t.getCause()) {
      // A wrapper's message is often its cause's toString(), and causes repeat: say each once.
      String message = t.getMessage();
      Throwable cause = t.getCause();
      String text =
          message == null || (cause != null && message.equals(cause.toString()))
              ? t.getClass().getName()
              : t.getClass().getName() + ": " + message;
      if (!text.equals(previous)) {
        out.append(previous == null ? "" : ", caused by ").append(text);
        previous = text;
      }
      if (cause == t) {
        break;
      }
    }
    StringBuilder safe = new StringBuilder(Math.min(out.length(), MAX_ERROR_LENGTH) + 3);
    for (int i = 0; i < out.length() && safe.length() < MAX_ERROR_LENGTH; i++) {
      char c = out.charAt(i);
      safe.append(SpanText.isControl(c) ? '?' : c);
    }
    if (out.length() > MAX_ERROR_LENGTH) {
      safe.append("...");
    }
    return safe.toString();
  }

  /** Counts the exports that fail; everything else is the delegate's. */
  private static final class CountingExporter implements SpanExporter {
    private final SpanExporter delegate;
    private final SpanLoss loss;

    CountingExporter(SpanExporter delegate, SpanLoss loss) {
      this.delegate = delegate;
      this.loss = loss;
    }

    @Override
    public CompletableResultCode export(Collection<SpanData> spans) {
      int count = spans.size();
      CompletableResultCode result;
      try {
        result = delegate.export(spans);
      } catch (RuntimeException e) {
        loss.exportFailed(count, e);
        return CompletableResultCode.ofExceptionalFailure(e);
      }
      result.whenComplete(
          () -> {
            if (result.isSuccess()) {
              loss.exportDone();
            } else {
              loss.exportFailed(count, result.getFailureThrowable());
            }
          });
      return result;
    }

    @Override
    public CompletableResultCode flush() {
      return delegate.flush();
    }

    @Override
    public CompletableResultCode shutdown() {
      return delegate.shutdown();
    }

    @Override
    public void close() {
      delegate.close();
    }

    @Override
    public String toString() {
      return delegate.toString();
    }
  }

  /**
   * Reads the batch span processor's own drop count from the SDK's meter provider. It aggregates
   * only counters (the processor's count is one) and drops every other instrument, and it is
   * collected only when a check is due. Its presence still makes the meter provider real: the
   * filter's meters are then no longer no-ops, so it records its HTTP server metrics per request
   * even when no metrics exporter reads them (docs/metrics.md).
   */
  static final class DropReader implements MetricReader {
    private static final String SDK_TRACE_SCOPE = "io.opentelemetry.sdk.trace";
    private volatile CollectionRegistration registration = CollectionRegistration.noop();
    // The count read as the meter provider shut down: the report at shutdown comes after it.
    private volatile long droppedAtShutdown;

    @Override
    public void register(CollectionRegistration registration) {
      this.registration = registration;
    }

    @Override
    public AggregationTemporality getAggregationTemporality(InstrumentType type) {
      return AggregationTemporality.CUMULATIVE;
    }

    @Override
    public Aggregation getDefaultAggregation(InstrumentType type) {
      return type == InstrumentType.COUNTER ? Aggregation.defaultAggregation() : Aggregation.drop();
    }

    @Override
    public MemoryMode getMemoryMode() {
      return MemoryMode.IMMUTABLE_DATA;
    }

    long droppedSpans() {
      return Math.max(droppedAtShutdown, collect());
    }

    private long collect() {
      long dropped = 0;
      for (MetricData metric : registration.collectAllMetrics()) {
        if (metric.getType() != MetricDataType.LONG_SUM) {
          continue;
        }
        String name = metric.getName();
        boolean legacy =
            name.equals("processedSpans")
                && metric.getInstrumentationScopeInfo().getName().equals(SDK_TRACE_SCOPE);
        if (!legacy && !name.equals("otel.sdk.processor.span.processed")) {
          continue;
        }
        for (LongPointData point : metric.getLongSumData().getPoints()) {
          if (legacy
              ? Boolean.TRUE.equals(point.getAttributes().get(LEGACY_DROPPED))
              : "queue_full".equals(point.getAttributes().get(ERROR_TYPE))) {
            dropped += point.getValue();
          }
        }
      }
      return dropped;
    }

    @Override
    public CompletableResultCode forceFlush() {
      return CompletableResultCode.ofSuccess();
    }

    @Override
    public CompletableResultCode shutdown() {
      // Read once more before letting go: the report at shutdown comes after the whole SDK shut
      // down (its tracer provider first, so nearly every drop has happened by now).
      droppedAtShutdown = collect();
      registration = CollectionRegistration.noop();
      return CompletableResultCode.ofSuccess();
    }

    @Override
    public String toString() {
      return "TraceletOpenTelemetry.DropReader";
    }
  }
}
