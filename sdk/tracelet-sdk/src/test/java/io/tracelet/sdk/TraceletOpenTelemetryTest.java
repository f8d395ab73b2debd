package io.tracelet.sdk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.opentelemetry.api.GlobalOpenTelemetry;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Context;
import io.opentelemetry.sdk.autoconfigure.spi.ConfigurationException;
import io.tracelet.testing.LogCapture;
import io.tracelet.testing.TestTracing;
import io.tracelet.trace.Spans;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.http2.server.HTTP2CServerConnectionFactory;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.Callback;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class TraceletOpenTelemetryTest {

  private final LogCapture spanLog = LogCapture.info(SpanLog.LOGGER_NAME);
  private Server server;

  @BeforeEach
  void resetGlobal() {
    GlobalOpenTelemetry.resetForTest();
  }

  @AfterEach
  void cleanUp() throws Exception {
    GlobalOpenTelemetry.resetForTest();
    spanLog.close();
    if (server != null) {
      server.stop();
    }
  }

  private static TraceletOpenTelemetry.Builder quiet() {
    return TraceletOpenTelemetry.builder().setShutdownHook(false);
  }

  @Test
  void noConfiguration_registersGlobal_withSpanLogAndNoExporter() {
    try (TraceletOpenTelemetry otel = quiet().initialize()) {
      assertThat(otel.isOwned()).isTrue();
      assertThat(GlobalOpenTelemetry.isSet()).isTrue();
      Spans.global().run("hello", () -> {});
      assertThat(spanLog.messages())
          .singleElement()
          .asString()
          .startsWith("span end trace=")
          .contains("name='hello'");
      // The span log is the only processor: no exporter, no batch processor.
      assertThat(otel.openTelemetry().toString())
          .contains("spanProcessor=io.tracelet.sdk.SpanLog@")
          .doesNotContain("Exporter")
          .contains("metricReaders=[]");
    }
  }

  @Test
  void existingGlobal_isUsedAsIs_andLeftOpen() {
    try (TestTracing tracing = new TestTracing()) {
      GlobalOpenTelemetry.set(tracing.sdk);
      try (TraceletOpenTelemetry otel = quiet().initialize()) {
        assertThat(otel.isOwned()).isFalse();
        Spans.global().run("viaAgentLikeGlobal", () -> {});
      }
      Spans.global().run("afterClose", () -> {});
      assertThat(tracing.exporter.getFinishedSpanItems())
          .extracting(s -> s.getName())
          .containsExactly("viaAgentLikeGlobal", "afterClose");
      assertThat(spanLog.messages()).as("no span log added to a foreign SDK").isEmpty();
    }
  }

  @Test
  void noProcessorAtAll_spansStillGetTheirOwnIds() {
    try (TraceletOpenTelemetry otel =
        quiet()
            .setProperty("tracelet.span.log", "off")
            .setProperty("otel.traces.exporter", "none")
            .initialize()) {
      Tracer tracer = otel.openTelemetry().getTracer("test");
      Span root = tracer.spanBuilder("root").startSpan();
      Span child = tracer.spanBuilder("child").setParent(Context.root().with(root)).startSpan();
      child.end();
      root.end();
      // OpenTelemetry's SDK with no processor at all hands out its no-op tracer, whose "root"
      // span is invalid and whose "child" is its parent again.
      assertThat(root.getSpanContext().isValid()).isTrue();
      assertThat(child.getSpanContext().getTraceId()).isEqualTo(root.getSpanContext().getTraceId());
      assertThat(child.getSpanContext().getSpanId())
          .isNotEqualTo(root.getSpanContext().getSpanId());
      assertThat(spanLog.messages()).isEmpty();
      assertThat(otel.openTelemetry().toString()).contains("NoExportSpanProcessor");
    }
  }

  @Test
  void anExporter_needsNoStandIn() {
    try (TraceletOpenTelemetry otel =
        quiet()
            .setProperty("tracelet.span.log", "off")
            .setProperty("otel.traces.exporter", "otlp")
            // Never reached: no span is started.
            .setProperty("otel.exporter.otlp.endpoint", "http://127.0.0.1:9")
            .initialize()) {
      assertThat(otel.openTelemetry().toString())
          .contains("OtlpHttpSpanExporter")
          .doesNotContain("NoExportSpanProcessor");
    }
  }

  @Test
  void onlyAnOtlpEndpoint_exportsWithOtlp_andTheStartUpLineSaysWhere() {
    try (LogCapture setup = LogCapture.info(TraceletOpenTelemetry.class.getName());
        TraceletOpenTelemetry otel =
            quiet()
                // Never reached: no span is started.
                .setProperty("otel.exporter.otlp.endpoint", "http://user:secret@127.0.0.1:9")
                .initialize()) {
      assertThat(otel.openTelemetry().toString()).contains("OtlpHttpSpanExporter");
      assertThat(setup.messages())
          .singleElement()
          .asString()
          .isEqualTo(
              "Tracelet: spans go to the span log (end) and OTLP http/protobuf at"
                  + " http://127.0.0.1:9/v1/traces")
          .doesNotContain("secret");
    }
  }

  @Test
  void aTracesEndpoint_alsoTurnsOtlpOn_butAnExplicitExporterWins() {
    try (TraceletOpenTelemetry otel =
        quiet()
            .setProperty("otel.exporter.otlp.traces.endpoint", "http://127.0.0.1:9/t")
            .initialize()) {
      assertThat(otel.openTelemetry().toString()).contains("OtlpHttpSpanExporter");
    }
    GlobalOpenTelemetry.resetForTest();
    try (TraceletOpenTelemetry otel =
        quiet()
            .setProperty("otel.exporter.otlp.endpoint", "http://127.0.0.1:9")
            .setProperty("otel.traces.exporter", "none")
            .initialize()) {
      assertThat(otel.openTelemetry().toString()).doesNotContain("OtlpHttpSpanExporter");
    }
  }

  @Test
  void noExporterAndNoSpanLog_theStartUpLineSaysSpansGoNowhere() {
    try (LogCapture setup = LogCapture.info(TraceletOpenTelemetry.class.getName());
        TraceletOpenTelemetry otel = quiet().setProperty("tracelet.span.log", "off").initialize()) {
      assertThat(setup.messages())
          .singleElement()
          .asString()
          .startsWith("Tracelet: spans go to nowhere (span log off, no exporter)");
    }
  }

  @Test
  void invalidSettings_failFastNamingTheSetting() {
    assertThatThrownBy(() -> quiet().setProperty("tracelet.span.log", "loud").initialize())
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("tracelet.span.log")
        .hasMessageContaining("off, end, start-and-end");
    assertThatThrownBy(() -> quiet().setProperty("tracelet.span.tree", "yes").initialize())
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("tracelet.span.tree");
    assertThat(GlobalOpenTelemetry.isSet()).isFalse();
  }

  @Test
  void spanLogOff_andTreeOn_areApplied() {
    try (LogCapture tree = LogCapture.info(SpanTree.LOGGER_NAME);
        TraceletOpenTelemetry otel =
            quiet()
                .setProperty("tracelet.span.log", "off")
                .setProperty("tracelet.span.tree", "true")
                .initialize()) {
      Spans.global().run("request", () -> Spans.global().run("child", () -> {}));
      assertThat(spanLog.messages()).isEmpty();
      assertThat(tree.messages()).singleElement().asString().contains("`- child");
    }
  }

  @Test
  void otlpHttp_sendsSpansToTheConfiguredEndpoint_onClose() throws Exception {
    List<String> received = new CopyOnWriteArrayList<>();
    int port = startReceiver(received, false);
    try (TraceletOpenTelemetry otel =
        quiet()
            .setProperty("otel.traces.exporter", "otlp")
            .setProperty("otel.exporter.otlp.protocol", "http/protobuf")
            .setProperty("otel.exporter.otlp.endpoint", "http://127.0.0.1:" + port)
            .setCloseTimeout(Duration.ofSeconds(10))
            .initialize()) {
      Spans.global().run("exported", () -> {});
    }
    assertThat(received).contains("POST /v1/traces application/x-protobuf");
  }

  @Test
  void otlpMetrics_asDocsMetricsMdSays_areSentToTheSameEndpoint() throws Exception {
    List<String> received = new CopyOnWriteArrayList<>();
    int port = startReceiver(received, false);
    try (TraceletOpenTelemetry otel =
        quiet()
            .setProperty("otel.exporter.otlp.endpoint", "http://127.0.0.1:" + port)
            .setProperty("otel.metrics.exporter", "otlp")
            .setCloseTimeout(Duration.ofSeconds(10))
            .initialize()) {
      otel.openTelemetry().getMeter("test").counterBuilder("test.requests").build().add(1);
    }
    // The periodic reader exports once more at shutdown.
    assertThat(received).contains("POST /v1/metrics application/x-protobuf");
  }

  @Test
  void otlpGrpc_sendsSpansToTheConfiguredEndpoint_onClose() throws Exception {
    List<String> received = new CopyOnWriteArrayList<>();
    int port = startReceiver(received, true);
    try (TraceletOpenTelemetry otel =
        quiet()
            .setProperty("otel.traces.exporter", "otlp")
            .setProperty("otel.exporter.otlp.protocol", "grpc")
            .setProperty("otel.exporter.otlp.endpoint", "http://127.0.0.1:" + port)
            .setCloseTimeout(Duration.ofSeconds(10))
            .initialize()) {
      Spans.global().run("exported", () -> {});
    }
    assertThat(received)
        .contains(
            "POST /opentelemetry.proto.collector.trace.v1.TraceService/Export application/grpc");
  }

  /** A minimal OTLP receiver: records each request and answers with an empty success. */
  private int startReceiver(List<String> received, boolean grpc) throws Exception {
    server = new Server();
    HttpConfiguration config = new HttpConfiguration();
    ServerConnector connector =
        grpc
            ? new ServerConnector(server, new HTTP2CServerConnectionFactory(config))
            : new ServerConnector(server);
    connector.setHost("127.0.0.1");
    connector.setPort(0);
    server.addConnector(connector);
    server.setHandler(
        new Handler.Abstract() {
          @Override
          public boolean handle(Request request, Response response, Callback callback)
              throws Exception {
            Content.Source.consumeAll(request);
            received.add(
                request.getMethod()
                    + " "
                    + Request.getPathInContext(request)
                    + " "
                    + request.getHeaders().get("content-type"));
            if (grpc) {
              response.getHeaders().put("content-type", "application/grpc");
              response.setTrailersSupplier(() -> HttpFields.build().put("grpc-status", "0"));
              // One gRPC frame: not compressed, length 0 (an empty ExportTraceServiceResponse).
              response.write(true, ByteBuffer.wrap(new byte[5]), callback);
            } else {
              response.getHeaders().put("content-type", "application/x-protobuf");
              response.write(true, ByteBuffer.allocate(0), callback);
            }
            return true;
          }
        });
    server.start();
    return connector.getLocalPort();
  }
}
