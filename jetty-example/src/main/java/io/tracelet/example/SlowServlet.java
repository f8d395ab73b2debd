package io.tracelet.example;

import io.tracelet.Cancellation;
import io.tracelet.ContextDoneException;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code GET /slow}: five seconds of work in 100 ms steps that stops as soon as the request's
 * context is done (the client left, or the request deadline passed).
 */
final class SlowServlet extends HttpServlet {

  private static final Logger log = LoggerFactory.getLogger(SlowServlet.class);

  private static final int STEPS = 50;
  private static final Duration STEP = Duration.ofMillis(100);

  @Override
  protected void doGet(HttpServletRequest request, HttpServletResponse response)
      throws IOException {
    Cancellation cancellation = Cancellation.current();
    log.info("slow: working for 5 s");
    try {
      for (int step = 0; step < STEPS; step++) {
        // One step of "work"; wakes up early when the context is done.
        if (cancellation.await(STEP)) {
          ContextDoneException cause = cancellation.cause();
          log.info("slow: request cancelled: {}", cause.toString());
          // The filter turns it into a 504 for a passed deadline, into nothing for a client gone.
          throw cause;
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      log.info("slow: interrupted");
      return;
    }
    log.info("slow: done");
    Responses.text(response, 200, "Slow work done");
  }
}
