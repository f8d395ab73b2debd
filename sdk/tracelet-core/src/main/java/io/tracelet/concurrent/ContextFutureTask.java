package io.tracelet.concurrent;

import io.opentelemetry.context.Context;
import io.tracelet.Cancellation;
import io.tracelet.ContextDoneException;
import java.util.concurrent.Callable;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A task that runs in the context it was submitted from and is cancelled with it. When the context
 * cancelled it, {@link #get()} throws the context's cause instead of a bare {@link
 * CancellationException}, so the caller learns why (canceled or deadline exceeded).
 */
final class ContextFutureTask<V> extends FutureTask<V> {

  private final Cancellation cancellation;
  private final Cancellation.Registration registration;
  private volatile boolean cancelledByContext;

  ContextFutureTask(Context context, Callable<V> callable) {
    super(context.wrap(callable));
    this.cancellation = Cancellation.fromContext(context);
    // Registered last: if the context is already done this cancels the task at once, so a thread
    // that picks it up later finds it cancelled and never starts it.
    this.registration = cancellation.onCancel(cause -> cancelByContext());
  }

  ContextFutureTask(Context context, Runnable runnable, V value) {
    this(context, Executors.callable(runnable, value));
  }

  private void cancelByContext() {
    // The flag only matters when get() throws CancellationException; it is set before cancel() so
    // a waiter woken by the cancellation always sees it. A task already done keeps its outcome.
    if (!isDone()) {
      cancelledByContext = true;
      cancel(true);
    }
  }

  @Override
  public void run() {
    // The listener normally got here first; this covers a task picked up in the instant between
    // the context's cancellation and its listeners running.
    if (cancellation.isCancelled()) {
      cancelByContext();
    }
    super.run();
  }

  @Override
  protected void done() {
    // Null when the context was already done: the listener ran, and so did this, inside the
    // constructor; there is nothing to remove.
    if (registration != null) {
      registration.close();
    }
  }

  @Override
  public V get() throws InterruptedException, ExecutionException {
    try {
      return super.get();
    } catch (CancellationException e) {
      throw contextCause(e);
    }
  }

  @Override
  public V get(long timeout, TimeUnit unit)
      throws InterruptedException, ExecutionException, TimeoutException {
    try {
      return super.get(timeout, unit);
    } catch (CancellationException e) {
      throw contextCause(e);
    }
  }

  private CancellationException contextCause(CancellationException e) {
    if (cancelledByContext) {
      try {
        cancellation.throwIfCancelled();
      } catch (ContextDoneException cause) {
        return cause;
      }
    }
    return e;
  }
}
