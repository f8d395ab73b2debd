package io.tracelet.example;

import io.opentelemetry.context.Scope;
import io.tracelet.CancellableContext;
import io.tracelet.DeadlineExceededException;
import io.tracelet.trace.Spans;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.time.Duration;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code GET /slow-store}: the store lookup (a 500 ms query) under a 100 ms deadline; answers 504
 * after about 100 ms, and the query is cancelled in the database.
 */
final class SlowStoreServlet extends HttpServlet {

  private static final Logger log = LoggerFactory.getLogger(SlowStoreServlet.class);

  static final Duration STORE_TIMEOUT = Duration.ofMillis(100);

  private final transient Spans spans;
  private final transient TaskStore store;

  SlowStoreServlet(Spans spans, TaskStore store) {
    this.spans = spans;
    this.store = store;
  }

  @Override
  protected void doGet(HttpServletRequest request, HttpServletResponse response)
      throws IOException {
    Optional<TaskStore.Task> task;
    try (CancellableContext ctx = CancellableContext.withTimeout(STORE_TIMEOUT);
        Scope scope = ctx.makeCurrent()) {
      task = spans.call("storeLookup", () -> store.findTaskSlowly(1));
    } catch (DeadlineExceededException e) {
      log.warn("slow-store: store lookup failed: {}", e.toString());
      Responses.jsonError(response, 504, "store lookup timed out");
      return;
    } catch (RuntimeException e) {
      throw e;
    } catch (Exception e) {
      log.warn("slow-store: store lookup failed: {}", e.toString());
      Responses.jsonError(response, 500, "store lookup failed");
      return;
    }
    Responses.json(response, 200, TasksServlet.toJson(task.orElseThrow()));
  }
}
