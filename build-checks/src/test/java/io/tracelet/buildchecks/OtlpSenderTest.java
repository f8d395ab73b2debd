package io.tracelet.buildchecks;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.opentelemetry.api.GlobalOpenTelemetry;
import io.opentelemetry.sdk.autoconfigure.spi.ConfigurationException;
import io.opentelemetry.sdk.common.export.HttpSenderProvider;
import io.tracelet.sdk.TraceletOpenTelemetry;
import java.util.ArrayList;
import java.util.List;
import java.util.ServiceLoader;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What an application that adds tracelet-servlet and tracelet-sdk and nothing else gets (this
 * module's test class path is exactly that): OTLP leaves through the JDK HttpClient, nothing of
 * OkHttp is on the class path, and asking for OTLP/gRPC fails at start-up naming the dependency to
 * add. (jetty-example's tests add the OkHttp sender in test scope for their gRPC cases.)
 */
class OtlpSenderTest {

  @BeforeEach
  @AfterEach
  void resetGlobal() {
    GlobalOpenTelemetry.resetForTest();
  }

  @Test
  void theOnlyOtlpHttpSender_isTheJdkHttpClient() {
    List<String> providers = new ArrayList<>();
    ServiceLoader.load(HttpSenderProvider.class)
        .forEach(p -> providers.add(p.getClass().getName()));
    assertThat(providers)
        .containsExactly("io.opentelemetry.exporter.sender.jdk.internal.JdkHttpSenderProvider");
  }

  @Test
  void okHttpOkioAndKotlin_areNotOnTheClassPath() {
    for (String name :
        List.of("okhttp3.OkHttpClient", "okio.Buffer", "kotlin.jvm.internal.Intrinsics")) {
      assertThatThrownBy(() -> Class.forName(name)).isInstanceOf(ClassNotFoundException.class);
    }
  }

  @Test
  void grpcProtocol_withoutAGrpcSender_failsAtStartWithTheDependencyToAdd() {
    assertThatThrownBy(
            () ->
                TraceletOpenTelemetry.builder()
                    .setProperty("otel.traces.exporter", "otlp")
                    .setProperty("otel.exporter.otlp.protocol", "grpc")
                    .setShutdownHook(false)
                    .initialize())
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("io.opentelemetry:opentelemetry-exporter-sender-okhttp")
        .hasMessageContaining("http/protobuf");
    assertThat(GlobalOpenTelemetry.isSet()).isFalse();
  }
}
