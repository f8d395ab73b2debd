package io.tracelet.example;

import io.opentelemetry.sdk.autoconfigure.spi.AutoConfigurationCustomizer;
import io.opentelemetry.sdk.autoconfigure.spi.AutoConfigurationCustomizerProvider;
import io.opentelemetry.sdk.testing.exporter.InMemoryMetricReader;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Lets a test read the metrics of an SDK built by autoconfigure (as {@code TraceletOpenTelemetry}
 * builds it), through autoconfigure's standard extension point: the next SDK built after {@link
 * #arm} gets the armed reader; every other SDK is left alone.
 *
 * <p>Registered in {@code META-INF/services} of the test classpath.
 */
public final class MetricCapture implements AutoConfigurationCustomizerProvider {

  private static final AtomicReference<InMemoryMetricReader> next = new AtomicReference<>();

  /** The reader that the next autoconfigured SDK registers. */
  static InMemoryMetricReader arm() {
    InMemoryMetricReader reader = InMemoryMetricReader.create();
    next.set(reader);
    return reader;
  }

  @Override
  public void customize(AutoConfigurationCustomizer customizer) {
    customizer.addMeterProviderCustomizer(
        (builder, config) -> {
          InMemoryMetricReader reader = next.getAndSet(null);
          return reader == null ? builder : builder.registerMetricReader(reader);
        });
  }
}
