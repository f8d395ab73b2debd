package io.tracelet.concurrent;

import io.opentelemetry.context.Context;
import java.util.Objects;
import java.util.concurrent.ExecutorService;

/**
 * Executors that carry the submitting thread's context to the task and honour its cancellation.
 *
 * <pre>{@code
 * ExecutorService pool = ContextExecutors.wrap(Executors.newFixedThreadPool(4));
 * Future<Report> report = pool.submit(() -> buildReport()); // runs in the caller's context
 * }</pre>
 *
 * <p>Built on OpenTelemetry's {@link Context#taskWrapping(ExecutorService)}, so each task sees the
 * context that was current when it was submitted (span parent, request ID, deadline), and adds what
 * that lacks for cancellation:
 *
 * <ul>
 *   <li>a task whose context is already cancelled when a thread picks it up is not started; its
 *       future is cancelled and {@link java.util.concurrent.Future#get() get()} throws the
 *       context's cause (a {@link io.tracelet.ContextDoneException}, which is a {@link
 *       java.util.concurrent.CancellationException});
 *   <li>when the context is cancelled, the futures of its pending and running tasks are cancelled
 *       (running ones are interrupted), the same way.
 * </ul>
 *
 * <p>Virtual threads work the same way on JDK 21+: wrap {@code
 * Executors.newVirtualThreadPerTaskExecutor()}.
 */
public final class ContextExecutors {

  private ContextExecutors() {}

  /**
   * Wraps {@code delegate}: tasks run in their submitter's context and are cancelled with it.
   * Shutting down the returned executor shuts down {@code delegate}.
   */
  public static ExecutorService wrap(ExecutorService delegate) {
    Objects.requireNonNull(delegate, "delegate");
    if (delegate instanceof ContextExecutorService) {
      return delegate;
    }
    return new ContextExecutorService(delegate);
  }
}
