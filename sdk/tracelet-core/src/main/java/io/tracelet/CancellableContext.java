package io.tracelet;

import io.opentelemetry.context.Context;
import io.opentelemetry.context.Scope;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;

/**
 * A context derived with a cancel function: Go's {@code context.WithCancel}, {@code WithTimeout}
 * and {@code WithDeadline}. Closing it is Java's {@code defer cancel()}: it cancels the context (if
 * nothing else did), cancels its timer and detaches it from its parent.
 *
 * <pre>{@code
 * try (CancellableContext ctx = CancellableContext.withTimeout(Duration.ofMillis(100));
 *     Scope scope = ctx.makeCurrent()) {
 *   store.find(id); // sees Cancellation.current() and stops when 100 ms have passed
 * }
 * }</pre>
 *
 * <p>The rules are Go's: a child's deadline is the earlier of its own and its parent's; a deadline
 * that has already passed cancels at once; cancelling a parent cancels every descendant with the
 * same cause. Only the holder of this handle can cancel: {@link Cancellation#current()} gives
 * downstream code a read-only view.
 */
public final class CancellableContext implements AutoCloseable {

  private static final Duration SURELY_AHEAD = Duration.ofMillis(1);

  private final Context context;
  private final Cancellation cancellation;

  private CancellableContext(Context parent, Deadline deadline, boolean ahead) {
    this.cancellation =
        Cancellation.derive(Objects.requireNonNull(parent, "parent"), deadline, ahead);
    this.context = cancellation.storeIn(parent);
  }

  /** A cancellable child of the current context. */
  public static CancellableContext withCancel() {
    return withCancel(Context.current());
  }

  /** A cancellable child of {@code parent}. */
  public static CancellableContext withCancel(Context parent) {
    return new CancellableContext(parent, null, false);
  }

  /** A child of the current context that is cancelled {@code timeout} from now. */
  public static CancellableContext withTimeout(Duration timeout) {
    return withTimeout(Context.current(), timeout);
  }

  /** A child of {@code parent} that is cancelled {@code timeout} from now (or earlier). */
  public static CancellableContext withTimeout(Context parent, Duration timeout) {
    // A deadline a millisecond or more away has not passed by the time its timer is set (if a
    // pause made it pass, the timer fires it at once): the clock is not read a second time. A
    // shorter one is looked at again, so that a timeout that ran out in between cancels here, on
    // the caller's thread, as Go's WithTimeout does.
    return new CancellableContext(
        parent, Deadline.after(timeout), timeout.compareTo(SURELY_AHEAD) >= 0);
  }

  /** A child of {@code parent} cancelled at {@code deadline} (or earlier, with its parent). */
  public static CancellableContext withDeadline(Context parent, Deadline deadline) {
    return new CancellableContext(parent, Objects.requireNonNull(deadline, "deadline"), false);
  }

  /** A child of the current context cancelled at {@code deadline}. */
  public static CancellableContext withDeadline(Deadline deadline) {
    return withDeadline(Context.current(), deadline);
  }

  /** A child of {@code parent} cancelled at the wall-clock instant {@code deadline}. */
  public static CancellableContext withDeadline(Context parent, Instant deadline) {
    return withDeadline(parent, Deadline.at(deadline));
  }

  /** The derived context, to pass on or to make current. */
  public Context context() {
    return context;
  }

  /** Makes the derived context current; close the scope to restore the previous one. */
  public Scope makeCurrent() {
    return context.makeCurrent();
  }

  /** The derived context's cancellation state. */
  public Cancellation cancellation() {
    return cancellation;
  }

  /**
   * Cancels the context and everything derived from it with {@link CanceledException}. Idempotent:
   * returns whether this call did the cancelling.
   */
  public boolean cancel() {
    return cancel(null);
  }

  /**
   * Cancels with an underlying {@code reason} (for example "client disconnected"), which becomes
   * the cause of the {@link CanceledException}. Returns whether this call did the cancelling.
   */
  public boolean cancel(Throwable reason) {
    return cancellation.cancel(new CanceledException(reason));
  }

  /**
   * Cancels with {@link DeadlineExceededException}, for callers that learn of a deadline from
   * elsewhere (a database timeout, a downstream 504). Returns whether this call did the cancelling.
   */
  public boolean cancelDeadlineExceeded(Throwable reason) {
    return cancellation.cancel(new DeadlineExceededException(reason));
  }

  /** Cancels (if not already done) and releases the timer and the link to the parent. */
  @Override
  public void close() {
    cancellation.cancel(CanceledException.CLOSED);
  }

  @Override
  public String toString() {
    return "CancellableContext{" + cancellation + "}";
  }
}
