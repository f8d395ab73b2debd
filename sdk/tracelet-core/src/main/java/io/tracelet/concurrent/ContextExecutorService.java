package io.tracelet.concurrent;

import io.opentelemetry.context.Context;
import io.tracelet.Cancellation;
import java.util.List;
import java.util.concurrent.AbstractExecutorService;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.RunnableFuture;
import java.util.concurrent.TimeUnit;

/**
 * An executor whose futures are {@link ContextFutureTask}s. {@code AbstractExecutorService} builds
 * {@code submit}, {@code invokeAll} and {@code invokeAny} on {@link #newTaskFor} and {@link
 * #execute}, so every way in gets the same treatment.
 */
final class ContextExecutorService extends AbstractExecutorService {

  private final ExecutorService delegate;
  // OpenTelemetry's wrapper carries the context of plain execute() tasks.
  private final ExecutorService contextWrapping;

  ContextExecutorService(ExecutorService delegate) {
    this.delegate = delegate;
    this.contextWrapping = Context.taskWrapping(delegate);
  }

  @Override
  protected <T> RunnableFuture<T> newTaskFor(Callable<T> callable) {
    return new ContextFutureTask<>(Context.current(), callable);
  }

  @Override
  protected <T> RunnableFuture<T> newTaskFor(Runnable runnable, T value) {
    return new ContextFutureTask<>(Context.current(), runnable, value);
  }

  @Override
  public void execute(Runnable command) {
    if (command instanceof ContextFutureTask) {
      // Already bound to its context (and wrapping it again would capture the current one).
      try {
        delegate.execute(command);
      } catch (RejectedExecutionException e) {
        // Nobody will run it: drop its cancellation listener now rather than when the context ends.
        ((ContextFutureTask<?>) command).cancel(false);
        throw e;
      }
      return;
    }
    contextWrapping.execute(new SkipIfCancelled(Context.current(), command));
  }

  @Override
  public void shutdown() {
    delegate.shutdown();
  }

  @Override
  public List<Runnable> shutdownNow() {
    return delegate.shutdownNow();
  }

  @Override
  public boolean isShutdown() {
    return delegate.isShutdown();
  }

  @Override
  public boolean isTerminated() {
    return delegate.isTerminated();
  }

  @Override
  public boolean awaitTermination(long timeout, TimeUnit unit) throws InterruptedException {
    return delegate.awaitTermination(timeout, unit);
  }

  @Override
  public String toString() {
    return "ContextExecutorService{" + delegate + "}";
  }

  /** A fire-and-forget task, dropped if its context is done before it starts. */
  private static final class SkipIfCancelled implements Runnable {
    private final Cancellation cancellation;
    private final Runnable task;

    SkipIfCancelled(Context context, Runnable task) {
      this.cancellation = Cancellation.fromContext(context);
      this.task = task;
    }

    @Override
    public void run() {
      if (!cancellation.isCancelled()) {
        task.run();
      }
    }
  }
}
