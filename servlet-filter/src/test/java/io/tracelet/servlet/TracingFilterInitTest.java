package io.tracelet.servlet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.context.propagation.ContextPropagators;
import io.opentelemetry.extension.trace.propagation.B3Propagator;
import io.tracelet.servlet.internal.container.ContainerAdapters;
import io.tracelet.servlet.internal.container.ContainerHeaders;
import io.tracelet.servlet.internal.container.DisconnectDetector;
import io.tracelet.servlet.internal.server.ServerTracing;
import io.tracelet.servlet.internal.settings.Settings;
import jakarta.servlet.FilterConfig;
import jakarta.servlet.ServletContext;
import jakarta.servlet.ServletException;
import java.util.Collections;
import java.util.Enumeration;
import java.util.Map;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

class TracingFilterInitTest {

  static FilterConfig filterConfig(Map<String, String> params) {
    return new FilterConfig() {
      @Override
      public String getFilterName() {
        return "tracing";
      }

      @Override
      public ServletContext getServletContext() {
        return null;
      }

      @Override
      public String getInitParameter(String name) {
        return params.get(name);
      }

      @Override
      public Enumeration<String> getInitParameterNames() {
        return Collections.enumeration(params.keySet());
      }
    };
  }

  @Test
  void unknownInitParam_failsInitWithTheKnownNames() {
    TracingFilter f =
        new TracingFilter(TracingConfig.builder().openTelemetry(OpenTelemetry.noop()).build());
    assertThatThrownBy(() -> f.init(filterConfig(Map.of("request-timout", "2s"))))
        .isInstanceOf(ServletException.class)
        .hasMessageContaining("request-timout")
        .hasMessageContaining("request-timeout");
  }

  @Test
  void invalidInitParam_failsInitSayingWhatIsAccepted() {
    TracingFilter f =
        new TracingFilter(TracingConfig.builder().openTelemetry(OpenTelemetry.noop()).build());
    assertThatThrownBy(() -> f.init(filterConfig(Map.of("response-trace-id", "yes"))))
        .isInstanceOf(ServletException.class)
        .hasMessageContaining("response-trace-id")
        .hasMessageContaining("true or false");
  }

  @Test
  void validInitParams_init() throws Exception {
    TracingFilter f =
        new TracingFilter(TracingConfig.builder().openTelemetry(OpenTelemetry.noop()).build());
    f.init(filterConfig(Map.of("request-timeout", "2s", "baggage-allow-list", "tenant")));
    assertThat(f.outboundPropagator().baggageAllowList()).containsExactly("tenant");
  }

  @Test
  void detectDisconnect_onByDefaultOnJetty_offWhenSetToFalse() throws Exception {
    TracingFilter on =
        new TracingFilter(TracingConfig.builder().openTelemetry(OpenTelemetry.noop()).build());
    on.init(filterConfig(Map.of()));
    assertThat(on.detector().getClass().getName())
        .isEqualTo("io.tracelet.servlet.jetty.JettyDisconnectDetector");

    TracingFilter off =
        new TracingFilter(TracingConfig.builder().openTelemetry(OpenTelemetry.noop()).build());
    off.init(filterConfig(Map.of("detect-disconnect", "false")));
    assertThat(off.detector()).isSameAs(DisconnectDetector.NONE);

    TracingFilter built =
        new TracingFilter(
            TracingConfig.builder()
                .openTelemetry(OpenTelemetry.noop())
                .detectDisconnect(false)
                .build());
    built.init(filterConfig(Map.of()));
    assertThat(built.detector()).isSameAs(DisconnectDetector.NONE);
  }

  @Test
  void propagators_comeFromSettingThenOpenTelemetryThenOtelPropertiesThenW3c() {
    Function<String, String> none = k -> null;
    Settings plain = Settings.resolve(TracingConfig.defaults(), none, none, none);
    Function<String, String> env = Map.of("OTEL_PROPAGATORS", "b3multi")::get;

    assertThat(ServerTracing.incomingPropagator(plain, OpenTelemetry.noop(), none, none).fields())
        .contains("traceparent", "baggage");
    assertThat(ServerTracing.incomingPropagator(plain, OpenTelemetry.noop(), none, env).fields())
        .contains("X-B3-TraceId");
    OpenTelemetry withB3 =
        OpenTelemetry.propagating(ContextPropagators.create(B3Propagator.injectingSingleHeader()));
    assertThat(ServerTracing.incomingPropagator(plain, withB3, none, env).fields())
        .containsExactly("b3");
    Settings jaeger =
        Settings.resolve(TracingConfig.builder().propagators("jaeger").build(), none, none, none);
    assertThat(ServerTracing.incomingPropagator(jaeger, withB3, none, env).fields())
        .containsExactly("uber-trace-id");
  }

  @Test
  void disconnectDetector_isNoneWithoutTheJettyAdapter() {
    // Jetty is on the test class path, but the adapter class is not part of this module yet.
    ClassLoader loader = TracingFilterInitTest.class.getClassLoader();
    boolean adapterPresent;
    try {
      Class.forName("io.tracelet.servlet.jetty.JettyDisconnectDetector", false, loader);
      adapterPresent = true;
    } catch (ClassNotFoundException e) {
      adapterPresent = false;
    }
    DisconnectDetector d = ContainerAdapters.disconnectDetector(loader);
    assertThat(d == DisconnectDetector.NONE).isEqualTo(!adapterPresent);
    assertThat(ContainerAdapters.headers(loader) == ContainerHeaders.SERVLET_API)
        .isEqualTo(!adapterPresent);
    ClassLoader noJetty = new ClassLoader(null) {};
    assertThat(ContainerAdapters.disconnectDetector(noJetty)).isSameAs(DisconnectDetector.NONE);
    assertThat(ContainerAdapters.headers(noJetty)).isSameAs(ContainerHeaders.SERVLET_API);
  }
}
