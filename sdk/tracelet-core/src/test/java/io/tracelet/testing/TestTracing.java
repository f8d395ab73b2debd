package io.tracelet.testing;

import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.SpanProcessor;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;

/** A real OpenTelemetry SDK that keeps finished spans in memory. */
public final class TestTracing implements AutoCloseable {

  public final InMemorySpanExporter exporter = InMemorySpanExporter.create();
  public final OpenTelemetrySdk sdk;

  public TestTracing(SpanProcessor... extraProcessors) {
    var builder = SdkTracerProvider.builder();
    for (SpanProcessor p : extraProcessors) {
      builder.addSpanProcessor(p);
    }
    builder.addSpanProcessor(SimpleSpanProcessor.create(exporter));
    sdk = OpenTelemetrySdk.builder().setTracerProvider(builder.build()).build();
  }

  public OpenTelemetry openTelemetry() {
    return sdk;
  }

  @Override
  public void close() {
    sdk.close();
  }
}
