package io.tracelet.docs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.opentelemetry.context.Context;
import io.opentelemetry.context.ContextKey;
import io.opentelemetry.context.Scope;
import io.tracelet.CanceledException;
import io.tracelet.CancellableContext;
import io.tracelet.Cancellation;
import io.tracelet.ContextDoneException;
import io.tracelet.Deadline;
import io.tracelet.DeadlineExceededException;
import io.tracelet.RequestId;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/** The samples of docs/concepts.md, compiled and run; DocSnippetsTest keeps the two identical. */
class ConceptsSnippetsTest {

  // snippet: tenant-key
  /** A request-scoped value under a private key, like Go's unexported {@code type ctxKey int}. */
  static final class Tenant {
    private static final ContextKey<Tenant> KEY = ContextKey.named("tenant");

    final String name;

    Tenant(String name) {
      this.name = name;
    }

    Context storeIn(Context context) {
      return context.with(KEY, this);
    }

    static Tenant fromContext(Context context) {
      return context.get(KEY);
    }
  }

  // end-snippet

  @Test
  void withValue() {
    // snippet: with-value
    Context ctx = new Tenant("acme").storeIn(Context.current());
    try (Scope scope = ctx.makeCurrent()) {
      assertThat(Tenant.fromContext(Context.current()).name).isEqualTo("acme");
    }
    // end-snippet
  }

  @Test
  void requestId() {
    // snippet: request-id
    RequestId id = RequestId.parseOrGenerate("a; X-Evil: 1"); // invalid: replaced, not repaired
    try (Scope scope = id.storeInContext(Context.current()).makeCurrent()) {
      String forLogs = RequestId.currentValue(); // 32 hex characters
      assertThat(forLogs).isEqualTo(id.value()).matches("[0-9a-f]{32}");
    }
    // end-snippet
  }

  @Test
  void withCancel() {
    // snippet: with-cancel
    try (CancellableContext ctx = CancellableContext.withCancel(Context.current())) {
      Cancellation done = ctx.cancellation(); // what downstream code sees
      ctx.cancel(); // Go: cancel()
      assertThat(done.isCancelled()).isTrue(); // Go: <-ctx.Done() would not block
    } // close() is Go's `defer cancel()`
    // end-snippet
  }

  @Test
  void withTimeout() {
    // snippet: with-timeout
    try (CancellableContext ctx = CancellableContext.withTimeout(Duration.ofMillis(50));
        Scope scope = ctx.makeCurrent()) {
      String result = slowLookup(); // sees the deadline through Cancellation.current()
      assertThat(result).isEqualTo("gave up: context deadline exceeded");
    }
    // end-snippet
  }

  // snippet: slow-lookup
  static String slowLookup() {
    Cancellation c = Cancellation.current();
    try {
      // Go: select { case <-time.After(500ms): ... case <-ctx.Done(): return ctx.Err() }
      if (!c.await(Duration.ofMillis(500))) {
        return "found";
      }
      return "gave up: " + c.cause().getMessage();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "interrupted";
    }
  }

  // end-snippet

  @Test
  void withDeadline() {
    // snippet: with-deadline
    Instant endOfBudget = Instant.now().plusSeconds(2);
    try (CancellableContext parent =
            CancellableContext.withDeadline(Context.current(), endOfBudget);
        CancellableContext child =
            CancellableContext.withDeadline(
                parent.context(), Deadline.after(Duration.ofHours(1)))) {
      // A child never outlives its parent: its deadline is the earlier of the two.
      assertThat(child.cancellation().deadline()).isSameAs(parent.cancellation().deadline());
    }
    // end-snippet
  }

  @Test
  void doneAndErr() {
    // snippet: done-err
    try (CancellableContext ctx = CancellableContext.withTimeout(Duration.ofMillis(10))) {
      Cancellation c = ctx.cancellation();
      CompletableFuture<ContextDoneException> done = c.toFuture(); // Go: ctx.Done()
      ContextDoneException err = done.join(); // blocks until the deadline passes
      assertThat(err).isInstanceOf(DeadlineExceededException.class); // Go: ctx.Err()
      assertThat(c.cause()).isSameAs(err);
    }
    // end-snippet
  }

  @Test
  void explicitContext() {
    try (CancellableContext ctx = CancellableContext.withCancel(Context.current())) {
      // snippet: explicit-context
      // Go passes ctx as the first parameter; in Java the current context is implicit...
      process(List.of("a", "b"));
      // ...and an explicit-context overload serves code that holds a context without making it
      // current, for example a callback on another thread.
      process(ctx.context(), List.of("c"));
      // end-snippet
      // What the snippet promises: the explicit context is the one that counts, current or not.
      ctx.cancel();
      assertThatThrownBy(() -> process(ctx.context(), List.of("d")))
          .isInstanceOf(CanceledException.class);
      process(List.of("e")); // the current context (not ctx) is not cancelled
    }
  }

  // snippet: process
  static void process(List<String> items) {
    process(Context.current(), items);
  }

  static void process(Context context, List<String> items) {
    Cancellation c = Cancellation.fromContext(context);
    for (String item : items) {
      c.throwIfCancelled(); // stop work nobody waits for any more
      handle(item);
    }
  }

  // end-snippet

  private static void handle(String item) {
    assertThat(item).isNotEmpty();
  }
}
