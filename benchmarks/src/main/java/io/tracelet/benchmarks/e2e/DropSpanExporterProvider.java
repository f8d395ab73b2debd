package io.tracelet.benchmarks.e2e;

import io.opentelemetry.sdk.autoconfigure.spi.ConfigProperties;
import io.opentelemetry.sdk.autoconfigure.spi.traces.ConfigurableSpanExporterProvider;
import io.opentelemetry.sdk.trace.export.SpanExporter;

/**
 * Makes {@link CountingDropExporter} available to the OpenTelemetry Java agent as {@code
 * otel.traces.exporter=drop}. {@code benchmarks/e2e.sh} packs this class, the exporter and the
 * service file in {@code src/agent-extension} into a jar and loads it with {@code
 * -Dotel.javaagent.extensions}, so the agent's batch processor feeds the same dropping exporter as
 * Tracelet's. It lives outside {@code META-INF/services} of the benchmarks jar on purpose: only the
 * agent should find it.
 */
public final class DropSpanExporterProvider implements ConfigurableSpanExporterProvider {

  @Override
  public SpanExporter createExporter(ConfigProperties config) {
    return new CountingDropExporter();
  }

  @Override
  public String getName() {
    return "drop";
  }
}
