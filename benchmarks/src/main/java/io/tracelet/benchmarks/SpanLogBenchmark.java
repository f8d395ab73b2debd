package io.tracelet.benchmarks;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Scope;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.export.BatchSpanProcessor;
import io.tracelet.sdk.SpanLog;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.slf4j.LoggerFactory;

/**
 * The span log ({@link SpanLog}, END mode) on a raw OpenTelemetry span start + end: {@code
 * disabled}, its logger below INFO (what an application pays for having it installed), and {@code
 * enabled}, its logger at INFO writing to logback's {@code NOPAppender} (logback.xml), so the line
 * is built and the logging event created and handed to an appender that discards it: the span log's
 * own cost without any I/O.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(5)
@State(org.openjdk.jmh.annotations.Scope.Benchmark)
public class SpanLogBenchmark {

  @Param({"disabled", "enabled"})
  public String spanLog;

  private OpenTelemetrySdk otel;
  private Tracer tracer;
  private Level previous;

  @Setup(org.openjdk.jmh.annotations.Level.Trial)
  public void setUp() {
    Logger logger = (Logger) LoggerFactory.getLogger(SpanLog.LOGGER_NAME);
    previous = logger.getLevel();
    logger.setLevel(spanLog.equals("enabled") ? Level.INFO : Level.WARN);
    if (logger.isInfoEnabled() != spanLog.equals("enabled")) {
      throw new IllegalStateException("the span log's logger is not " + spanLog);
    }
    otel =
        OpenTelemetrySdk.builder()
            .setTracerProvider(
                SdkTracerProvider.builder()
                    .addSpanProcessor(SpanLog.create(SpanLog.Mode.END))
                    .addSpanProcessor(
                        BatchSpanProcessor.builder(new SpanBenchmark.DropExporter()).build())
                    .build())
            .build();
    tracer = otel.getTracer("bench");
  }

  @TearDown(org.openjdk.jmh.annotations.Level.Trial)
  public void tearDown() {
    otel.close();
    ((Logger) LoggerFactory.getLogger(SpanLog.LOGGER_NAME)).setLevel(previous);
  }

  @Benchmark
  public Span rawOpenTelemetryWithSpanLog() {
    Span span = tracer.spanBuilder("validateOrder").startSpan();
    try (Scope scope = span.makeCurrent()) {
      return span;
    } finally {
      span.end();
    }
  }
}
