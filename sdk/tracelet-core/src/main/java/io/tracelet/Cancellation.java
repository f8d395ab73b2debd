package io.tracelet;

import io.opentelemetry.context.Context;
import io.opentelemetry.context.ContextKey;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The cancellation state of a context: whether it is done, why, and its deadline. This is the
 * read-only side of Go's {@code ctx.Done()}, {@code ctx.Err()} and {@code ctx.Deadline()}.
 *
 * <p>Code that receives a context can observe its cancellation but never cause it: the ability to
 * cancel stays with the {@link CancellableContext} handle of whoever derived the context.
 *
 * <pre>{@code
 * Cancellation c = Cancellation.current();
 * for (Item item : items) {
 *   c.throwIfCancelled(); // stop work nobody is waiting for
 *   process(item);
 * }
 * }</pre>
 *
 * <p>Cancelling a context cancels all contexts derived from it, with the same cause. Listeners run
 * once, on the thread that cancels (the shared timer thread for deadlines) unless an executor is
 * given; they must be quick.
 */
public final class Cancellation {

  private static final Logger logger = Logger.getLogger(Cancellation.class.getName());

  // Private: downstream code reaches the state only through fromContext()/current(), and can
  // never put its own Cancellation in place of ours.
  private static final ContextKey<Cancellation> KEY = ContextKey.named("tracelet.cancellation");

  /** The state of a context nobody can cancel: the root context, or one with no Tracelet state. */
  private static final Cancellation NEVER = new Cancellation(null, null);

  private final Cancellation parent;
  private final Deadline deadline;

  // The whole "is it cancelled?" check is one read of this field.
  private volatile ContextDoneException cause;

  // Guarded by this: registered listeners (children included) as a doubly linked list, so a
  // child that closes before its parent unlinks itself in O(1) and nothing dead accumulates.
  private Listener head;
  private Listener tail;
  // Guarded by this: our entry in the parent's list, and our deadline timer.
  private Listener parentLink;
  private DeadlineClock.Timer timer;

  private Cancellation(Cancellation parent, Deadline deadline) {
    this.parent = parent;
    this.deadline = deadline;
  }

  /** The cancellation state of the current context. Never null. */
  public static Cancellation current() {
    return fromContext(Context.current());
  }

  /**
   * The cancellation state of {@code context}; a context without one is never cancelled and has no
   * deadline. Never null.
   */
  public static Cancellation fromContext(Context context) {
    Cancellation c = context.get(KEY);
    return c == null ? NEVER : c;
  }

  /**
   * Derives a cancellable child state of {@code parentContext} with the given deadline (or none),
   * and stores it in a new context. Used by {@link CancellableContext}. {@code ahead}: the caller
   * made {@code requested} just now from a timeout long enough not to have passed yet, so the clock
   * need not be read again (should it have passed, the timer fires it at once).
   */
  static Cancellation derive(Context parentContext, Deadline requested, boolean ahead) {
    Cancellation parent = fromContext(parentContext);
    Deadline inherited = parent.deadline;
    Deadline effective =
        requested == null
            ? inherited
            : inherited == null ? requested : inherited.minimum(requested);
    Cancellation child = new Cancellation(parent == NEVER ? null : parent, effective);
    if (child.parent != null) {
      Listener link = new Listener(parent, null, null, child);
      synchronized (child) {
        // Inside the child's lock so that a concurrent cascade from the parent cannot finish the
        // child before parentLink is known.
        if (parent.add(link)) {
          child.parentLink = link;
        }
      }
      if (child.parentLink == null) {
        // The parent was already done: so is the child, with the same cause.
        child.cancel(parent.cause);
        return child;
      }
    }
    // Only a deadline of our own needs a timer; an inherited one fires through the parent.
    if (requested != null && effective == requested) {
      if (!ahead && requested.remainingNanos() <= 0) {
        child.cancel(new DeadlineExceededException(null));
      } else {
        DeadlineClock.Timer t = requested.clock().scheduleAt(child::onDeadline, requested.nanos());
        boolean alreadyDone;
        synchronized (child) {
          alreadyDone = child.cause != null;
          if (!alreadyDone) {
            child.timer = t;
          }
        }
        if (alreadyDone) {
          t.cancel();
        }
      }
    }
    return child;
  }

  Context storeIn(Context context) {
    return context.with(KEY, this);
  }

  private void onDeadline() {
    cancel(new DeadlineExceededException(null));
  }

  /**
   * Marks this state done with {@code reason}, unless it already is; then releases the timer,
   * leaves the parent, and runs listeners (children first cancel in turn). Returns whether this
   * call did it.
   */
  boolean cancel(ContextDoneException reason) {
    Listener first;
    Listener link;
    DeadlineClock.Timer t;
    synchronized (this) {
      if (cause != null || this == NEVER) {
        return false;
      }
      cause = reason;
      first = head;
      head = tail = null;
      link = parentLink;
      parentLink = null;
      t = timer;
      timer = null;
      notifyAll();
    }
    if (t != null) {
      t.cancel();
    }
    if (link != null) {
      parent.remove(link);
    }
    for (Listener l = first; l != null; ) {
      Listener next = l.next;
      l.next = l.prev = null;
      l.fire(reason);
      l = next;
    }
    return true;
  }

  /** Appends {@code l} unless already done; returns whether it was added. */
  private synchronized boolean add(Listener l) {
    if (cause != null) {
      return false;
    }
    l.prev = tail;
    if (tail == null) {
      head = l;
    } else {
      tail.next = l;
    }
    tail = l;
    l.linked = true;
    return true;
  }

  private synchronized void remove(Listener l) {
    // Once cancelled, the list belongs to the thread running the listeners: leave it alone.
    if (cause != null || !l.linked) {
      return;
    }
    l.linked = false;
    if (l.prev == null) {
      head = l.next;
    } else {
      l.prev.next = l.next;
    }
    if (l.next == null) {
      tail = l.prev;
    } else {
      l.next.prev = l.prev;
    }
    l.prev = l.next = null;
  }

  /** Whether the context is done. A single volatile read: no lock, no allocation. */
  public boolean isCancelled() {
    return cause != null;
  }

  /**
   * Why the context is done ({@link CanceledException} or {@link DeadlineExceededException}), or
   * {@code null} while it is not. Go's {@code ctx.Err()}.
   */
  public ContextDoneException cause() {
    return cause;
  }

  /**
   * Throws the cause, with the caller's stack trace, if the context is done. For loops that should
   * stop when nobody waits for their result any more.
   */
  public void throwIfCancelled() {
    ContextDoneException c = cause;
    if (c != null) {
      throw c.withCallerStackTrace();
    }
  }

  /** Whether the context has a deadline (its own or inherited). */
  public boolean hasDeadline() {
    return deadline != null;
  }

  /** The context's deadline (the earliest of its own and its ancestors'), or {@code null}. */
  public Deadline deadline() {
    return deadline;
  }

  /** The time left before the deadline, empty when there is none; zero or negative once passed. */
  public Optional<Duration> timeRemaining() {
    return deadline == null ? Optional.empty() : Optional.of(deadline.timeRemaining());
  }

  /**
   * Nanoseconds left before the deadline; {@link Long#MAX_VALUE} when there is none. Allocation
   * free.
   */
  public long remainingNanos() {
    return deadline == null ? Long.MAX_VALUE : deadline.remainingNanos();
  }

  /**
   * Calls {@code listener} with the cause once the context is done: at once on this thread if it
   * already is, else on the thread that cancels it. Closing the returned registration removes the
   * listener (Go's {@code context.AfterFunc} and its {@code stop}).
   */
  public Registration onCancel(Consumer<? super ContextDoneException> listener) {
    return onCancel(listener, null);
  }

  /** As {@link #onCancel(Consumer)}, but the listener runs on {@code executor}. */
  public Registration onCancel(Consumer<? super ContextDoneException> listener, Executor executor) {
    Objects.requireNonNull(listener, "listener");
    if (this == NEVER) {
      // Never fires: keeping the listener would only leak it.
      return Registration.NOOP;
    }
    Listener l = new Listener(this, listener, executor, null);
    if (!add(l)) {
      l.fire(cause);
    }
    return l;
  }

  /**
   * Blocks until the context is done or {@code timeout} passes; returns whether it is done. Go's
   * {@code select} on {@code ctx.Done()} with a timer.
   */
  public boolean await(Duration timeout) throws InterruptedException {
    long remaining = timeout.toNanos();
    long end = System.nanoTime() + remaining;
    synchronized (this) {
      while (cause == null && remaining > 0) {
        TimeUnit.NANOSECONDS.timedWait(this, remaining);
        remaining = end - System.nanoTime();
      }
      return cause != null;
    }
  }

  /**
   * A future completed with the cause when the context is done: Go's {@code ctx.Done()} for
   * asynchronous code. Cancelling the future removes its listener.
   */
  public CompletableFuture<ContextDoneException> toFuture() {
    CompletableFuture<ContextDoneException> done = new CompletableFuture<>();
    Registration r = onCancel(done::complete);
    done.whenComplete((v, e) -> r.close());
    return done;
  }

  /**
   * Cancels {@code future} when the context is done: a {@link CompletableFuture} is completed
   * exceptionally with the cause; any other future is {@linkplain Future#cancel(boolean) cancelled}
   * with interruption. The listener goes away when the returned registration is closed, or when a
   * {@code CompletableFuture} completes first.
   */
  public Registration cancelWhenDone(Future<?> future) {
    Objects.requireNonNull(future, "future");
    if (future instanceof CompletableFuture) {
      CompletableFuture<?> cf = (CompletableFuture<?>) future;
      Registration r = onCancel(cf::completeExceptionally);
      cf.whenComplete((v, e) -> r.close());
      return r;
    }
    return onCancel(c -> future.cancel(true));
  }

  /** Listeners and children still registered; for tests that check nothing accumulates. */
  synchronized int registeredCount() {
    int n = 0;
    for (Listener l = head; l != null; l = l.next) {
      n++;
    }
    return n;
  }

  @Override
  public String toString() {
    ContextDoneException c = cause;
    return "Cancellation{"
        + (c == null ? "active" : c.getMessage())
        + (deadline == null ? "" : ", " + deadline)
        + "}";
  }

  /** Undoes a listener registration. Closing twice, or after the listener ran, does nothing. */
  public interface Registration extends AutoCloseable {
    Registration NOOP = () -> {};

    @Override
    void close();
  }

  /** One registered listener, or a child to cancel; a node of the owner's list. */
  private static final class Listener implements Registration {
    private final Cancellation owner;
    private final Consumer<? super ContextDoneException> action;
    private final Executor executor;
    private final Cancellation child;
    Listener prev;
    Listener next;
    boolean linked;

    Listener(
        Cancellation owner,
        Consumer<? super ContextDoneException> action,
        Executor executor,
        Cancellation child) {
      this.owner = owner;
      this.action = action;
      this.executor = executor;
      this.child = child;
    }

    void fire(ContextDoneException cause) {
      if (child != null) {
        child.cancel(cause);
      } else if (executor != null) {
        try {
          executor.execute(() -> runSafely(cause));
        } catch (RuntimeException e) {
          logger.log(Level.WARNING, "executor rejected a cancellation listener", e);
        }
      } else {
        runSafely(cause);
      }
    }

    private void runSafely(ContextDoneException cause) {
      try {
        action.accept(cause);
      } catch (RuntimeException e) {
        // One faulty listener must not stop the others, nor the cascade to children.
        logger.log(Level.WARNING, "a cancellation listener threw", e);
      }
    }

    @Override
    public void close() {
      owner.remove(this);
    }
  }
}
