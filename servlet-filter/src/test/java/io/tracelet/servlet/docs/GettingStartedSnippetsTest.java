package io.tracelet.servlet.docs;

import static org.assertj.core.api.Assertions.assertThat;

import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import io.tracelet.RequestId;
import io.tracelet.logging.TraceletMdc;
import io.tracelet.sdk.TraceletOpenTelemetry;
import io.tracelet.servlet.TracingConfig;
import io.tracelet.servlet.TracingFilter;
import io.tracelet.trace.SpanScope;
import io.tracelet.trace.Spans;
import jakarta.servlet.DispatcherType;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.EnumSet;
import java.util.List;
import org.eclipse.jetty.ee10.servlet.FilterHolder;
import org.eclipse.jetty.ee10.servlet.ServletContextHandler;
import org.eclipse.jetty.ee10.servlet.ServletHolder;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The samples of docs/getting-started.md and the README's 30-second example, compiled; the server
 * they build is started on a free port and asked for {@code /hello}.
 */
class GettingStartedSnippetsTest {

  // snippet: hello-servlet
  static final class HelloServlet extends HttpServlet {
    private static final Logger log = LoggerFactory.getLogger(HelloServlet.class);
    private final transient Spans spans;

    HelloServlet(Spans spans) {
      this.spans = spans;
    }

    @Override
    protected void doGet(HttpServletRequest request, HttpServletResponse response)
        throws IOException {
      try (SpanScope scope = spans.start("sayHello")) { // a child of the request's server span
        String requestId = RequestId.currentValue(); // X-Request-ID, or a generated one
        log.info("saying hello"); // the MDC holds trace_id, span_id and request_id
        response.setContentType("text/plain");
        response.getWriter().println("hello, request " + requestId);
      }
    }
  }

  // end-snippet

  static void addTracingFilter(ServletContextHandler context, OpenTelemetry openTelemetry) {
    // snippet: register-filter
    FilterHolder filter =
        new FilterHolder(
            new TracingFilter(TracingConfig.builder().openTelemetry(openTelemetry).build()));
    filter.setAsyncSupported(true);
    context.addFilter(filter, "/*", EnumSet.of(DispatcherType.REQUEST, DispatcherType.ASYNC));
    // end-snippet
  }

  static ServletContextHandler helloContext(OpenTelemetry openTelemetry) {
    ServletContextHandler context = new ServletContextHandler();
    addTracingFilter(context, openTelemetry);
    context.addServlet(new ServletHolder(new HelloServlet(Spans.create(openTelemetry))), "/hello");
    return context;
  }

  // snippet: main
  public static void main(String[] args) throws Exception {
    TraceletMdc.install(); // first line: the context storage is fixed when a Context is first used
    try (TraceletOpenTelemetry otel = TraceletOpenTelemetry.initialize()) {
      Server server = new Server(new InetSocketAddress("127.0.0.1", 8080));
      server.setHandler(helloContext(otel.openTelemetry()));
      server.start();
      server.join();
    } // close() (or, on Ctrl-C, a shutdown hook) flushes the last spans
  }

  // end-snippet

  @Test
  void helloServer_echoesTheRequestIdAndRecordsAChildOfTheServerSpan() throws Exception {
    InMemorySpanExporter exporter = InMemorySpanExporter.create();
    try (OpenTelemetrySdk sdk =
        OpenTelemetrySdk.builder()
            .setTracerProvider(
                SdkTracerProvider.builder()
                    .addSpanProcessor(SimpleSpanProcessor.create(exporter))
                    .build())
            .build()) {
      Server server = new Server(new InetSocketAddress("127.0.0.1", 0));
      server.setHandler(helloContext(sdk));
      server.start();
      try {
        URI uri =
            URI.create(
                "http://127.0.0.1:"
                    + ((ServerConnector) server.getConnectors()[0]).getLocalPort()
                    + "/hello");
        HttpClient client = HttpClient.newHttpClient();
        HttpResponse<String> given =
            client.send(
                HttpRequest.newBuilder(uri).header("X-Request-ID", "my-first-request").build(),
                HttpResponse.BodyHandlers.ofString());
        HttpResponse<String> generated =
            client.send(HttpRequest.newBuilder(uri).build(), HttpResponse.BodyHandlers.ofString());

        // The outputs docs/getting-started.md shows.
        assertThat(given.statusCode()).isEqualTo(200);
        assertThat(given.body()).isEqualTo("hello, request my-first-request\n");
        assertThat(given.headers().firstValue("X-Request-ID")).contains("my-first-request");
        assertThat(given.headers().firstValue("traceresponse"))
            .hasValueSatisfying(v -> assertThat(v).matches("00-[0-9a-f]{32}-[0-9a-f]{16}-03"));
        String generatedId = generated.headers().firstValue("X-Request-ID").orElseThrow();
        assertThat(generatedId).matches("[0-9a-f]{32}");
        assertThat(generated.body()).isEqualTo("hello, request " + generatedId + "\n");

        List<SpanData> spans = exporter.getFinishedSpanItems();
        SpanData server1 =
            spans.stream()
                .filter(s -> s.getKind() == SpanKind.SERVER)
                .filter(s -> "my-first-request".equals(requestIdOf(s)))
                .findFirst()
                .orElseThrow();
        assertThat(server1.getName()).isEqualTo("GET /hello");
        assertThat(given.headers().firstValue("traceresponse").orElseThrow())
            .contains(server1.getTraceId() + "-" + server1.getSpanId());
        assertThat(spans)
            .anySatisfy(
                s -> {
                  assertThat(s.getName()).isEqualTo("sayHello");
                  assertThat(s.getParentSpanId()).isEqualTo(server1.getSpanId());
                });
      } finally {
        server.stop();
      }
    }
  }

  private static String requestIdOf(SpanData span) {
    return span.getAttributes()
        .get(io.opentelemetry.api.common.AttributeKey.stringKey("tracelet.request_id"));
  }
}
