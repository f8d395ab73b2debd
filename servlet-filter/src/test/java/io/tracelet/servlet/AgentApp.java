package io.tracelet.servlet;

import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanContext;
import io.tracelet.Cancellation;
import io.tracelet.RequestId;
import jakarta.servlet.AsyncContext;
import jakarta.servlet.DispatcherType;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.EnumSet;
import org.eclipse.jetty.ee10.servlet.FilterHolder;
import org.eclipse.jetty.ee10.servlet.ServletContextHandler;
import org.eclipse.jetty.ee10.servlet.ServletHolder;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;

/**
 * Run by {@link JavaAgentTest} in a JVM of its own with the OpenTelemetry Java agent: a Jetty with
 * the {@link TracingFilter} (using the agent's {@code GlobalOpenTelemetry}) serving a few requests
 * sent over loopback by this same process (request 2 asynchronous), each line of what was seen
 * printed for the test to read.
 *
 * <p>Output lines: {@code SEEN <i> trace=<id> span=<id> rid=<id> deadline=<bool>} from inside the
 * servlet, {@code RESPONSE <i> status=<n> traceresponse=<v> rid=<v>} from the client side, and
 * {@code LEAKED <n>} and {@code JOINED <n>} with the filter's counters at the end.
 */
public final class AgentApp {
  private AgentApp() {}

  public static void main(String[] args) throws Exception {
    int requests = args.length > 0 ? Integer.parseInt(args[0]) : 3;
    Server server = new Server();
    ServerConnector connector = new ServerConnector(server);
    connector.setHost("127.0.0.1");
    server.addConnector(connector);
    ServletContextHandler context = new ServletContextHandler();
    TracingFilter filter = new TracingFilter(TracingConfig.builder().build());
    FilterHolder holder = new FilterHolder(filter);
    holder.setAsyncSupported(true);
    context.addFilter(holder, "/*", EnumSet.of(DispatcherType.REQUEST, DispatcherType.ASYNC));
    ServletHolder servlet = new ServletHolder(new Seen());
    servlet.setAsyncSupported(true);
    context.addServlet(servlet, "/seen/*");
    server.setHandler(context);
    server.start();
    int port = connector.getLocalPort();
    try {
      for (int i = 0; i < requests; i++) {
        // Raw sockets: the agent's HTTP-client instrumentation must not add a client span or a
        // traceparent of its own; request 1 brings a caller's traceparent.
        RawHttp.Response r =
            i == 1
                ? RawHttp.send(
                    port,
                    "GET",
                    "/seen/" + i,
                    "X-Request-ID: agent-" + i,
                    "X-Request-Timeout-Ms: 5000",
                    "traceparent: 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
                : RawHttp.send(
                    port,
                    "GET",
                    "/seen/" + i,
                    "X-Request-ID: agent-" + i,
                    "X-Request-Timeout-Ms: 5000");
        System.out.println(
            "RESPONSE "
                + i
                + " status="
                + r.status()
                + " traceresponse="
                + r.header("traceresponse")
                + " rid="
                + r.header("X-Request-ID")
                + " body="
                + r.body().trim());
      }
      System.out.println(
          "AGENT " + io.tracelet.servlet.internal.server.ServerTracing.javaAgentPresent());
      System.out.println("LEAKED " + filter.leakedContextCount());
      System.out.println("JOINED " + filter.joinedContextCount());
    } finally {
      server.stop();
    }
  }

  private static final class Seen extends HttpServlet {
    @Override
    protected void doGet(HttpServletRequest req, HttpServletResponse resp) throws IOException {
      if (req.getPathInfo().equals("/2")) {
        // Asynchronous: answered from AsyncContext.start, completed there.
        AsyncContext async = req.startAsync();
        async.start(
            () -> {
              try {
                see(req, resp);
              } catch (IOException e) {
                throw new UncheckedIOException(e);
              } finally {
                async.complete();
              }
            });
        return;
      }
      see(req, resp);
    }

    private static void see(HttpServletRequest req, HttpServletResponse resp) throws IOException {
      SpanContext sc = Span.current().getSpanContext();
      RequestId rid = RequestId.current();
      String line =
          "SEEN "
              + req.getPathInfo().substring(1)
              + " trace="
              + sc.getTraceId()
              + " span="
              + sc.getSpanId()
              + " rid="
              + (rid == null ? "none" : rid.value())
              + " deadline="
              + Cancellation.current().hasDeadline();
      System.out.println(line);
      resp.setContentType("text/plain");
      resp.getWriter().write(line);
    }
  }
}
