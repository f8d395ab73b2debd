package io.tracelet.benchmarks;

import io.opentelemetry.api.trace.Span;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.Scope;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.export.BatchSpanProcessor;
import io.tracelet.RequestId;
import java.util.concurrent.TimeUnit;
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
 * MDC correlation per scope: making a request context current (an SDK span and a request ID, so the
 * MDC gets {@code trace_id}, {@code span_id}, {@code parent_span_id} and {@code request_id}) and
 * closing the scope, with Tracelet's MDC context storage against OpenTelemetry's default storage.
 * The storage is fixed per JVM at first use, so each benchmark picks it in its own fork; the MDC
 * adapter is logback's. (Run in one JVM, as the smoke test does, both use whichever storage that
 * JVM has.)
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@State(org.openjdk.jmh.annotations.Scope.Thread)
public class MdcBenchmark {

  private OpenTelemetrySdk otel;
  private Span span;
  private Context request;

  @Setup(Level.Trial)
  public void setUp() {
    otel =
        OpenTelemetrySdk.builder()
            .setTracerProvider(
                SdkTracerProvider.builder()
                    .addSpanProcessor(
                        BatchSpanProcessor.builder(new SpanBenchmark.DropExporter()).build())
                    .build())
            .build();
    Span parent = otel.getTracer("bench").spanBuilder("parent").startSpan();
    span =
        otel.getTracer("bench")
            .spanBuilder("GET /hello")
            .setParent(Context.root().with(parent))
            .startSpan();
    parent.end();
    request = RequestId.generate().storeInContext(Context.root().with(span));
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    span.end();
    otel.close();
  }

  @Benchmark
  @Fork(
      value = 5,
      jvmArgsAppend =
          "-Dio.opentelemetry.context.contextStorageProvider="
              + "io.tracelet.logging.MdcContextStorageProvider")
  public Context traceletMdcStorage() {
    try (Scope ignored = request.makeCurrent()) {
      return Context.current();
    }
  }

  @Benchmark
  @Fork(value = 5, jvmArgsAppend = "-Dio.opentelemetry.context.contextStorageProvider=default")
  public Context defaultStorage() {
    try (Scope ignored = request.makeCurrent()) {
      return Context.current();
    }
  }
}
