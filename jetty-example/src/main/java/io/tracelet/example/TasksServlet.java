package io.tracelet.example;

import io.opentelemetry.context.Scope;
import io.tracelet.CancellableContext;
import io.tracelet.DeadlineExceededException;
import io.tracelet.servlet.TracingFilter;
import io.tracelet.trace.Spans;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.time.Duration;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** {@code GET /tasks/{id}}: the store lookup (a 500 ms query) under a 2 s deadline. */
final class TasksServlet extends HttpServlet {

  private static final Logger log = LoggerFactory.getLogger(TasksServlet.class);

  static final Duration STORE_TIMEOUT = Duration.ofSeconds(2);

  private final transient Spans spans;
  private final transient TaskStore store;

  TasksServlet(Spans spans, TaskStore store) {
    this.spans = spans;
    this.store = store;
  }

  static String toJson(TaskStore.Task task) {
    return "{\"id\":" + task.id() + ",\"title\":" + Responses.quote(task.title()) + "}";
  }

  @Override
  protected void doGet(HttpServletRequest request, HttpServletResponse response)
      throws IOException {
    TracingFilter.setRoute(request, "/tasks/{id}");
    String path = request.getPathInfo();
    long id;
    try {
      id = Long.parseLong(path == null ? "" : path.substring(1));
    } catch (NumberFormatException e) {
      Responses.jsonError(response, 400, "task id must be a number");
      return;
    }
    Optional<TaskStore.Task> task;
    try (CancellableContext ctx = CancellableContext.withTimeout(STORE_TIMEOUT);
        Scope scope = ctx.makeCurrent()) {
      task = spans.call("storeLookup", () -> store.findTaskSlowly(id));
    } catch (DeadlineExceededException e) {
      log.warn("tasks: store lookup failed: {}", e.toString());
      Responses.jsonError(response, 504, "store lookup timed out");
      return;
    } catch (RuntimeException e) {
      throw e;
    } catch (Exception e) {
      log.warn("tasks: store lookup failed: {}", e.toString());
      Responses.jsonError(response, 500, "store lookup failed");
      return;
    }
    if (task.isEmpty()) {
      Responses.jsonError(response, 404, "task not found");
      return;
    }
    log.info("tasks: found task {}", id);
    Responses.json(response, 200, toJson(task.get()));
  }
}
