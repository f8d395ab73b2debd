package io.tracelet.servlet;

import io.opentelemetry.sdk.autoconfigure.spi.ConfigProperties;
import io.opentelemetry.sdk.autoconfigure.spi.traces.ConfigurableSpanExporterProvider;
import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SpanExporter;
import java.util.Collection;

/**
 * An exporter that autoconfigure knows as {@value #NAME} ({@code otel.traces.exporter=memory}), so
 * tests can set up an exporting SDK through {@code TraceletOpenTelemetry} the way users do, and
 * read what was exported from {@link #EXPORTER}. Autoconfigure puts it behind its batch processor.
 */
public final class MemoryExporterProvider implements ConfigurableSpanExporterProvider {

  /** The exporter's name in {@code otel.traces.exporter}. */
  public static final String NAME = "memory";

  /** Where the spans go; reset it before each test that uses it. */
  public static final InMemorySpanExporter EXPORTER = InMemorySpanExporter.create();

  @Override
  public SpanExporter createExporter(ConfigProperties config) {
    // The SDK shuts its exporter down on close; the shared one must outlive each SDK.
    return new SpanExporter() {
      @Override
      public CompletableResultCode export(Collection<SpanData> spans) {
        return EXPORTER.export(spans);
      }

      @Override
      public CompletableResultCode flush() {
        return EXPORTER.flush();
      }

      @Override
      public CompletableResultCode shutdown() {
        return CompletableResultCode.ofSuccess();
      }
    };
  }

  @Override
  public String getName() {
    return NAME;
  }
}
