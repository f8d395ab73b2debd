package io.tracelet.example;

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
 * An application with tracelet-sdk and nothing else, as this example is: OTLP leaves through the
 * JDK HttpClient, and nothing of OkHttp is on the class path.
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
