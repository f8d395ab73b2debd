package io.tracelet.servlet;

import static org.assertj.core.api.Assertions.assertThat;

import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import jakarta.servlet.DispatcherType;
import jakarta.servlet.Filter;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletRequestWrapper;
import jakarta.servlet.http.HttpServletResponse;
import jakarta.servlet.http.HttpServletResponseWrapper;
import java.util.Collections;
import java.util.EnumSet;
import java.util.Enumeration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.eclipse.jetty.ee10.servlet.FilterHolder;
import org.eclipse.jetty.ee10.servlet.ServletContextHandler;
import org.eclipse.jetty.ee10.servlet.ServletHolder;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * On Jetty the filter reads request headers in one pass over Jetty's own fields and puts response
 * headers straight into the response's fields. What a filter in front of ours did must still hold:
 * headers it set are replaced (never sent twice), and a request or response it wrapped is read and
 * written through its wrapper.
 */
class FrontFilterHeadersTest {

  private static final String TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";
  private static final String WRAPPER_TRACE_ID = "0af7651916cd43dd8448eb211c80319c";

  private final InMemorySpanExporter exporter = InMemorySpanExporter.create();
  private final OpenTelemetrySdk otel = TestSdks.recordingInto(exporter);
  private final List<String> setThroughWrapper = new CopyOnWriteArrayList<>();
  private Server server;

  private int start(Filter front) throws Exception {
    server = new Server();
    ServerConnector connector = new ServerConnector(server);
    connector.setHost("127.0.0.1");
    connector.setPort(0);
    server.addConnector(connector);
    ServletContextHandler context = new ServletContextHandler();
    context.setContextPath("/");
    context.addFilter(new FilterHolder(front), "/*", EnumSet.of(DispatcherType.REQUEST));
    context.addFilter(
        new FilterHolder(new TracingFilter(TracingConfig.builder().openTelemetry(otel).build())),
        "/*",
        EnumSet.of(DispatcherType.REQUEST));
    context.addServlet(new ServletHolder(new AppServlet()), "/echo");
    server.setHandler(context);
    server.start();
    return connector.getLocalPort();
  }

  @AfterEach
  void stop() throws Exception {
    if (server != null) {
      server.stop();
    }
    otel.close();
  }

  @Test
  void headersSetInFront_areReplacedNotRepeated() throws Exception {
    int port =
        start(
            (req, res, chain) -> {
              HttpServletResponse response = (HttpServletResponse) res;
              response.setHeader("X-Request-ID", "front");
              response.setHeader("traceresponse", "00-" + "1".repeat(32) + "-" + "2".repeat(16));
              chain.doFilter(req, res);
            });
    RawHttp.Response response = RawHttp.send(port, "GET", "/echo");
    assertThat(response.status()).isEqualTo(200);
    assertThat(response.headers("X-Request-ID")).containsExactly(response.echo().get("requestId"));
    assertThat(response.headers("traceresponse")).hasSize(1);
    assertThat(response.header("traceresponse")).contains(response.echo().get("traceId"));
  }

  @Test
  void wrappedRequestAndResponse_goThroughTheWrappers() throws Exception {
    int port =
        start(
            (req, res, chain) -> {
              HttpServletRequest request =
                  new HttpServletRequestWrapper((HttpServletRequest) req) {
                    @Override
                    public String getHeader(String name) {
                      return "traceparent".equalsIgnoreCase(name)
                          ? wrapperTraceparent()
                          : super.getHeader(name);
                    }

                    @Override
                    public Enumeration<String> getHeaders(String name) {
                      return "traceparent".equalsIgnoreCase(name)
                          ? Collections.enumeration(List.of(wrapperTraceparent()))
                          : super.getHeaders(name);
                    }
                  };
              HttpServletResponse response =
                  new HttpServletResponseWrapper((HttpServletResponse) res) {
                    @Override
                    public void setHeader(String name, String value) {
                      setThroughWrapper.add(name);
                      super.setHeader(name, value);
                    }
                  };
              chain.doFilter(request, response);
            });
    RawHttp.Response response =
        RawHttp.send(port, "GET", "/echo", "traceparent: 00-" + TRACE_ID + "-00f067aa0ba902b7-01");
    assertThat(response.status()).isEqualTo(200);
    // The wrapper's traceparent, not the one on the wire.
    assertThat(response.echo()).containsEntry("traceId", WRAPPER_TRACE_ID);
    assertThat(setThroughWrapper).contains("X-Request-ID", "traceresponse");
    assertThat(response.headers("X-Request-ID")).containsExactly(response.echo().get("requestId"));
  }

  private static String wrapperTraceparent() {
    return "00-" + WRAPPER_TRACE_ID + "-b7ad6b7169203331-01";
  }

  @Test
  void responseCommittedInFront_isServedWithoutOurHeaders() throws Exception {
    int port =
        start(
            (req, res, chain) -> {
              res.getOutputStream().print("early\n");
              res.flushBuffer();
              chain.doFilter(req, res);
            });
    RawHttp.Response response = RawHttp.send(port, "GET", "/echo");
    assertThat(response.status()).isEqualTo(200);
    assertThat(response.body()).startsWith("early\n").contains("requestId=");
    // The head was sent before our filter ran: nothing of ours can be in it.
    assertThat(response.headers("X-Request-ID")).isEmpty();
    assertThat(response.headers("traceresponse")).isEmpty();
  }

  @Test
  void unwrappedRequest_readsTheHeadersOnTheWire() throws Exception {
    int port = start((req, res, chain) -> chain.doFilter(req, res));
    RawHttp.Response response =
        RawHttp.send(
            port,
            "GET",
            "/echo",
            "TraceParent: 00-" + TRACE_ID + "-00f067aa0ba902b7-01",
            "x-request-id: from-the-caller");
    assertThat(response.echo())
        .containsEntry("traceId", TRACE_ID)
        .containsEntry("requestId", "from-the-caller");
    assertThat(response.headers("X-Request-ID")).containsExactly("from-the-caller");
  }
}
