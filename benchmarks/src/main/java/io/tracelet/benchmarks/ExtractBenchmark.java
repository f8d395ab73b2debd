package io.tracelet.benchmarks;

import io.opentelemetry.api.baggage.propagation.W3CBaggagePropagator;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.propagation.TextMapGetter;
import io.opentelemetry.context.propagation.TextMapPropagator;
import io.tracelet.servlet.internal.propagation.HeaderSource;
import io.tracelet.servlet.internal.propagation.IncomingGetter;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Reading the incoming trace context from request headers: the filter's path (OpenTelemetry's W3C
 * propagator reading through {@link IncomingGetter}, which enforces the W3C Level 2 rules the
 * propagator does not: a repeated {@code traceparent}, combined and normalized {@code tracestate},
 * optional whitespace) against OpenTelemetry's {@code W3CTraceContextPropagator} alone with a
 * getter that returns the first value. Both read the same headers, looked up like a servlet
 * container does. {@code traceletWithBaggage} is the filter's default propagator (trace context and
 * baggage; no baggage header is sent).
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(5)
@State(org.openjdk.jmh.annotations.Scope.Benchmark)
public class ExtractBenchmark {

  private static final TextMapGetter<HeaderSource> FIRST_VALUE =
      new TextMapGetter<>() {
        @Override
        public Iterable<String> keys(HeaderSource carrier) {
          return carrier.names();
        }

        @Override
        public String get(HeaderSource carrier, String key) {
          return carrier == null ? null : carrier.first(key);
        }
      };

  /** {@code traceparent} alone, or with a two-member {@code tracestate}. */
  @Param({"traceparent", "traceparentAndTracestate"})
  public String headers;

  private HeaderSource carrier;
  private final TextMapPropagator w3c = W3CTraceContextPropagator.getInstance();
  private final TextMapPropagator w3cAndBaggage =
      TextMapPropagator.composite(
          W3CTraceContextPropagator.getInstance(), W3CBaggagePropagator.getInstance());

  @Setup(Level.Trial)
  public void setUp() {
    String traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    carrier =
        headers.equals("traceparent")
            ? new FixedHeaders(
                "Host", "localhost", "User-Agent", "bench/1.0", "traceparent", traceparent)
            : new FixedHeaders(
                "Host",
                "localhost",
                "User-Agent",
                "bench/1.0",
                "traceparent",
                traceparent,
                "tracestate",
                "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7");
    for (SpanContext sc : new SpanContext[] {tracelet(), openTelemetry(), traceletWithBaggage()}) {
      if (!sc.isValid()) {
        throw new IllegalStateException("the benchmark headers do not parse");
      }
    }
  }

  @Benchmark
  public SpanContext tracelet() {
    return Span.fromContext(w3c.extract(Context.root(), carrier, IncomingGetter.INSTANCE))
        .getSpanContext();
  }

  @Benchmark
  public SpanContext openTelemetry() {
    return Span.fromContext(w3c.extract(Context.root(), carrier, FIRST_VALUE)).getSpanContext();
  }

  @Benchmark
  public SpanContext traceletWithBaggage() {
    return Span.fromContext(w3cAndBaggage.extract(Context.root(), carrier, IncomingGetter.INSTANCE))
        .getSpanContext();
  }
}
