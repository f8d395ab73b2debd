package io.tracelet.benchmarks;

import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Scope;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.SdkTracerProviderBuilder;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.BatchSpanProcessor;
import io.opentelemetry.sdk.trace.export.SpanExporter;
import io.tracelet.sdk.SpanLog;
import io.tracelet.trace.SpanScope;
import io.tracelet.trace.Spans;
import java.util.Collection;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Span start + finish: Tracelet's helper against raw OpenTelemetry, both on the same SDK with a
 * batch span processor and an exporter that drops everything (a tracer with no processor makes
 * non-recording spans and is no baseline). The span log's logger is disabled: logback at WARN
 * (src/main/resources/logback.xml).
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(5)
@State(org.openjdk.jmh.annotations.Scope.Benchmark)
public class SpanBenchmark {

  private OpenTelemetrySdk plain;
  private OpenTelemetrySdk withSpanLog;
  private Tracer rawTracer;
  private Tracer rawTracerWithSpanLog;
  private Spans spans;

  @Setup(Level.Trial)
  public void setUp() {
    plain = sdk(SdkTracerProvider.builder());
    withSpanLog =
        sdk(SdkTracerProvider.builder().addSpanProcessor(SpanLog.create(SpanLog.Mode.END)));
    rawTracer = plain.getTracer("bench");
    rawTracerWithSpanLog = withSpanLog.getTracer("bench");
    spans = Spans.create(plain);
  }

  private static OpenTelemetrySdk sdk(SdkTracerProviderBuilder builder) {
    return OpenTelemetrySdk.builder()
        .setTracerProvider(
            builder
                .addSpanProcessor(BatchSpanProcessor.builder(new DropExporter()).build())
                .build())
        .build();
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    plain.close();
    withSpanLog.close();
  }

  @Benchmark
  public Span rawOpenTelemetry() {
    Span span = rawTracer.spanBuilder("validateOrder").startSpan();
    try (Scope scope = span.makeCurrent()) {
      return span;
    } finally {
      span.end();
    }
  }

  @Benchmark
  public Span traceletHelper() {
    try (SpanScope scope = spans.start("validateOrder")) {
      return scope.span();
    }
  }

  @Benchmark
  public Span rawOpenTelemetryWithDisabledSpanLog() {
    Span span = rawTracerWithSpanLog.spanBuilder("validateOrder").startSpan();
    try (Scope scope = span.makeCurrent()) {
      return span;
    } finally {
      span.end();
    }
  }

  /**
   * Accepts and drops every batch: the cost measured is the tracer's, not an exporter's. Counts the
   * spans silently, so that a set-up can check its tracer records (one add per batch).
   */
  static final class DropExporter implements SpanExporter {
    private final LongAdder spans = new LongAdder();

    @Override
    public CompletableResultCode export(Collection<SpanData> batch) {
      spans.add(batch.size());
      return CompletableResultCode.ofSuccess();
    }

    long count() {
      return spans.sum();
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
}
