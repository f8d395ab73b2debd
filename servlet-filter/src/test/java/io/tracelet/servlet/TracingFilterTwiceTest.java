package io.tracelet.servlet;

import static org.assertj.core.api.Assertions.assertThat;

import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.data.SpanData;
import jakarta.servlet.DispatcherType;
import java.util.EnumSet;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.eclipse.jetty.ee10.servlet.FilterHolder;
import org.eclipse.jetty.ee10.servlet.ServletContextHandler;
import org.eclipse.jetty.ee10.servlet.ServletHolder;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The filter mapped twice (two instances in one chain, as happens when a framework registers it and
 * the application does too): the request is traced once, by the first, also when it is dispatched
 * again asynchronously. The inner instance recognizes the request through the first one's request
 * wrapper; no request attribute is set until an asynchronous cycle starts.
 */
class TracingFilterTwiceTest {

  private final InMemorySpanExporter exporter = InMemorySpanExporter.create();
  private final OpenTelemetrySdk otel = TestSdks.recordingInto(exporter);
  private Server server;
  private int port;

  @BeforeEach
  void start() throws Exception {
    server = new Server();
    ServerConnector connector = new ServerConnector(server);
    connector.setHost("127.0.0.1");
    connector.setPort(0);
    server.addConnector(connector);
    ServletContextHandler context = new ServletContextHandler();
    context.setContextPath("/");
    for (int i = 0; i < 2; i++) {
      FilterHolder holder =
          new FilterHolder(new TracingFilter(TracingConfig.builder().openTelemetry(otel).build()));
      holder.setAsyncSupported(true);
      context.addFilter(holder, "/*", EnumSet.of(DispatcherType.REQUEST, DispatcherType.ASYNC));
    }
    ServletHolder app = new ServletHolder(new AppServlet());
    app.setAsyncSupported(true);
    for (String mapping : AppServlet.MAPPINGS) {
      context.addServlet(app, mapping);
    }
    server.setHandler(context);
    server.start();
    port = connector.getLocalPort();
  }

  @AfterEach
  void stop() throws Exception {
    server.stop();
    otel.close();
  }

  @Test
  void filterMappedTwice_tracesARequestOnce() throws Exception {
    RawHttp.Response response = RawHttp.send(port, "GET", "/echo");
    assertThat(response.status()).isEqualTo(200);
    SpanData span = onlyServerSpan();
    assertThat(response.echo()).containsEntry("traceId", span.getTraceId());
    assertThat(response.header("X-Request-ID")).isEqualTo(response.echo().get("requestId"));
  }

  @Test
  void filterMappedTwice_asyncDispatchResumesTheOneExchange() throws Exception {
    RawHttp.Response response = RawHttp.send(port, "GET", "/async-dispatch");
    assertThat(response.status()).isEqualTo(200);
    SpanData span = onlyServerSpan();
    assertThat(response.echo())
        .containsEntry("traceId", span.getTraceId())
        .containsEntry("spanId", span.getSpanId());
  }

  private SpanData onlyServerSpan() throws InterruptedException {
    // The span ends after the response is written, on the container's thread.
    long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (exporter.getFinishedSpanItems().isEmpty() && System.nanoTime() < until) {
      Thread.sleep(10);
    }
    Thread.sleep(50);
    List<SpanData> spans = exporter.getFinishedSpanItems();
    assertThat(spans).hasSize(1);
    assertThat(spans.get(0).getKind()).isEqualTo(SpanKind.SERVER);
    return spans.get(0);
  }
}
