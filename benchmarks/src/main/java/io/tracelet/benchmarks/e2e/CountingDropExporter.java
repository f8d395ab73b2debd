package io.tracelet.benchmarks.e2e;

import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SpanExporter;
import java.util.Collection;
import java.util.concurrent.atomic.LongAdder;

/**
 * An exporter that drops every batch and counts the spans in it, so a run can prove its tracer
 * recorded spans without paying for serialisation or a network. Tracelet's server and the
 * OpenTelemetry agent (through {@link DropSpanExporterProvider}) both export through this class,
 * behind the same default batch span processor. {@link #shutdown()} prints the count on standard
 * error as {@code spans recorded: N}, the line {@code benchmarks/e2e.sh} reads.
 */
public final class CountingDropExporter implements SpanExporter {
  private final LongAdder spans = new LongAdder();

  @Override
  public CompletableResultCode export(Collection<SpanData> batch) {
    spans.add(batch.size());
    return CompletableResultCode.ofSuccess();
  }

  /** Spans exported (and dropped) so far. */
  public long count() {
    return spans.sum();
  }

  @Override
  public CompletableResultCode flush() {
    return CompletableResultCode.ofSuccess();
  }

  @Override
  public CompletableResultCode shutdown() {
    System.err.println("spans recorded: " + count());
    return CompletableResultCode.ofSuccess();
  }
}
