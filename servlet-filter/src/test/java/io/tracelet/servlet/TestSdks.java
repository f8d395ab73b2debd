package io.tracelet.servlet;

import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;

/** The OpenTelemetry SDK most filter tests run on: every span, as it ends, into one exporter. */
public final class TestSdks {
  private TestSdks() {}

  /** An SDK whose spans go to {@code exporter} as they end (a simple processor: no batching). */
  public static OpenTelemetrySdk recordingInto(InMemorySpanExporter exporter) {
    return OpenTelemetrySdk.builder()
        .setTracerProvider(
            SdkTracerProvider.builder()
                .addSpanProcessor(SimpleSpanProcessor.create(exporter))
                .build())
        .build();
  }
}
