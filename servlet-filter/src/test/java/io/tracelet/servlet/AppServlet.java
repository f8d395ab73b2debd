package io.tracelet.servlet;

import io.opentelemetry.api.baggage.Baggage;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.ContextKey;
import io.tracelet.Cancellation;
import io.tracelet.RequestId;
import io.tracelet.TraceIds;
import jakarta.servlet.AsyncContext;
import jakarta.servlet.DispatcherType;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.TreeMap;

/**
 * The application under test: what it does depends on the path. It reports what it sees of the
 * request context as {@code key=value} lines.
 */
public class AppServlet extends HttpServlet {

  /** The key a misbehaving earlier filter leaves on the thread. */
  static final ContextKey<String> LEAK = ContextKey.named("test.leak");

  /** Every path the app serves, mapped exactly unless it ends with {@code /*}. */
  static final String[] MAPPINGS = {
    "/echo",
    "/items/*",
    "/routed",
    "/fail",
    "/error500",
    "/health",
    "/wait-deadline",
    "/commit-then-fail",
    "/async-start",
    "/async-dispatch",
    "/async-timeout",
    "/leak"
  };

  @Override
  protected void service(HttpServletRequest req, HttpServletResponse resp) throws IOException {
    if (!knownMethod(req.getMethod())) {
      resp.sendError(HttpServletResponse.SC_NOT_IMPLEMENTED);
      return;
    }
    String path = req.getServletPath();
    switch (path) {
      case "/routed" -> {
        TracingFilter.setRoute(req, "/things/{id}");
        echo(resp);
      }
      case "/fail" -> throw new IllegalStateException("boom");
      case "/error500" -> {
        resp.setStatus(500);
        echo(resp);
      }
      case "/wait-deadline" -> {
        try {
          Cancellation.current().await(Duration.ofSeconds(20));
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
        Cancellation.current().throwIfCancelled();
        echo(resp);
      }
      case "/commit-then-fail" -> {
        resp.getWriter().write("partial\n");
        resp.flushBuffer();
        throw new IllegalStateException("after commit");
      }
      case "/async-start" -> {
        AsyncContext ac = req.startAsync();
        ac.start(
            () -> {
              try {
                echo(ac.getResponse());
              } catch (IOException e) {
                throw new IllegalStateException(e);
              } finally {
                ac.complete();
              }
            });
      }
      case "/async-dispatch" -> {
        if (req.getDispatcherType() == DispatcherType.ASYNC) {
          echo(resp);
        } else {
          AsyncContext ac = req.startAsync();
          new Thread(ac::dispatch).start();
        }
      }
      case "/async-timeout" -> {
        AsyncContext ac = req.startAsync();
        ac.setTimeout(200);
      }
      default -> echo(resp);
    }
  }

  private static boolean knownMethod(String method) {
    return switch (method) {
      case "GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS", "PATCH" -> true;
      default -> false;
    };
  }

  static void echo(ServletResponse resp) throws IOException {
    Cancellation c = Cancellation.current();
    Baggage baggage = Baggage.current();
    TreeMap<String, String> bag = new TreeMap<>();
    baggage.forEach((k, v) -> bag.put(k, v.getValue()));
    String leak = Context.current().get(LEAK);
    String body =
        "requestId="
            + RequestId.currentValue()
            + "\ntraceId="
            + TraceIds.traceId()
            + "\nspanId="
            + TraceIds.spanId()
            + "\nbaggage="
            + bag
            + "\nbaggageSize="
            + baggage.size()
            + "\ndeadlineMs="
            + c.timeRemaining().map(d -> Long.toString(d.toMillis())).orElse("none")
            + "\nleak="
            + (leak == null ? "none" : leak)
            + "\nthread="
            + Thread.currentThread().getName()
            + "\n";
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    resp.setContentType("text/plain");
    resp.setContentLength(bytes.length);
    resp.getOutputStream().write(bytes);
  }
}
