package io.tracelet.servlet.internal.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.metrics.MeterProvider;
import io.opentelemetry.api.trace.TracerProvider;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.propagation.ContextPropagators;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import io.tracelet.Cancellation;
import io.tracelet.servlet.TracingConfig;
import io.tracelet.servlet.internal.propagation.TestHeaders;
import io.tracelet.servlet.internal.settings.Settings;
import java.lang.reflect.Proxy;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The handler when the OpenTelemetry instance it was given misbehaves. */
class ServerTracingFaultTest {

  final InMemorySpanExporter exporter = InMemorySpanExporter.create();
  final SdkTracerProvider tracerProvider =
      SdkTracerProvider.builder().addSpanProcessor(SimpleSpanProcessor.create(exporter)).build();

  @AfterEach
  void close() {
    tracerProvider.close();
  }

  /**
   * A meter provider whose up-down counters throw when counting (the active requests), every other
   * instrument working: a real SDK tracer beside it.
   */
  OpenTelemetry withBrokenUpDownCounters() {
    MeterProvider meters =
        (MeterProvider)
            Proxy.newProxyInstance(
                getClass().getClassLoader(),
                new Class<?>[] {MeterProvider.class},
                (proxy, method, args) -> broken(method.getReturnType()));
    return new OpenTelemetry() {
      @Override
      public TracerProvider getTracerProvider() {
        return tracerProvider;
      }

      @Override
      public MeterProvider getMeterProvider() {
        return meters;
      }

      @Override
      public ContextPropagators getPropagators() {
        return ContextPropagators.create(W3CTraceContextPropagator.getInstance());
      }
    };
  }

  /** Builders and instruments as proxies; an up-down counter's add throws. */
  static Object broken(Class<?> type) {
    if (!type.isInterface()) {
      return null;
    }
    return Proxy.newProxyInstance(
        ServerTracingFaultTest.class.getClassLoader(),
        new Class<?>[] {type},
        (proxy, method, args) -> {
          if (method.getName().equals("add") && type.getSimpleName().contains("UpDownCounter")) {
            throw new IllegalStateException("broken meter");
          }
          if (method.getName().equals("toString")) {
            return "broken " + type.getSimpleName();
          }
          return method.getReturnType() == void.class ? null : broken(method.getReturnType());
        });
  }

  @Test
  void aMeterThatThrows_whenTheRequestStarts_leavesItTracedAndEndsItsSpan() {
    OpenTelemetry otel = withBrokenUpDownCounters();
    Settings settings =
        Settings.resolve(
            TracingConfig.builder().requestTimeout(java.time.Duration.ofSeconds(30)).build(),
            k -> null,
            k -> null,
            k -> null);
    ServerTracing core = new ServerTracing(settings, otel, W3CTraceContextPropagator.getInstance());
    RequestInfo info = RequestInfo.get("/a");

    Exchange ex = core.start(info.with(TestHeaders.of()), null);
    assertThat(ex.span().getSpanContext().isValid()).isTrue();
    Cancellation c = Cancellation.fromContext(ex.context());
    assertThat(c.hasDeadline()).isTrue();
    assertThat(core.end(ex, 200, null, true, null)).isTrue();

    assertThat(exporter.getFinishedSpanItems()).hasSize(1);
    assertThat(c.isCancelled()).as("the request context is closed").isTrue();
    assertThat(Context.current()).isSameAs(Context.root());
  }
}
