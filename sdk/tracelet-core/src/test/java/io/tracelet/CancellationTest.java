package io.tracelet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import io.opentelemetry.context.Context;
import io.opentelemetry.context.ContextKey;
import io.opentelemetry.context.Scope;
import io.tracelet.testsupport.ManualDeadlineClock;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(ContextLeakCheck.class)
class CancellationTest {

  private final ManualDeadlineClock clock = new ManualDeadlineClock();

  private CancellableContext withTimeout(Context parent, Duration timeout) {
    return CancellableContext.withDeadline(parent, Deadline.after(timeout, clock));
  }

  @Test
  void rootContext_isNeverCancelledAndHasNoDeadline() {
    Cancellation root = Cancellation.fromContext(Context.root());
    assertThat(root.isCancelled()).isFalse();
    assertThat(root.cause()).isNull();
    assertThat(root.hasDeadline()).isFalse();
    assertThat(root.deadline()).isNull();
    assertThat(root.timeRemaining()).isEmpty();
    assertThat(root.remainingNanos()).isEqualTo(Long.MAX_VALUE);
    root.throwIfCancelled();
    assertThat(Cancellation.current()).isSameAs(root);
  }

  @Test
  void cancel_isIdempotentAndReportsWhoCancelled() {
    try (CancellableContext ctx = CancellableContext.withCancel(Context.root())) {
      assertThat(ctx.cancellation().isCancelled()).isFalse();
      assertThat(ctx.cancel()).isTrue();
      assertThat(ctx.cancel()).isFalse();
      assertThat(ctx.cancel(new IOException("late"))).isFalse();
      assertThat(ctx.cancellation().cause()).isInstanceOf(CanceledException.class);
      assertThat(ctx.cancellation().cause()).hasMessage("context canceled").hasNoCause();
    }
  }

  @Test
  void close_cancels() {
    CancellableContext ctx = CancellableContext.withCancel(Context.root());
    ctx.close();
    assertThat(ctx.cancellation().isCancelled()).isTrue();
    ctx.close();
    assertThat(ctx.cancel()).isFalse();
  }

  @Test
  void cancelWithReason_keepsTheUnderlyingCause() {
    IOException gone = new IOException("client disconnected");
    try (CancellableContext ctx = CancellableContext.withCancel(Context.root())) {
      ctx.cancel(gone);
      ContextDoneException cause = ctx.cancellation().cause();
      assertThat(cause).isInstanceOf(CanceledException.class).hasCause(gone);
      assertThat(cause).hasMessage("context canceled: client disconnected");
      assertThat(cause).isInstanceOf(java.util.concurrent.CancellationException.class);
    }
  }

  @Test
  void deadlineAndCancel_haveDistinctCauseTypes() {
    try (CancellableContext canceled = CancellableContext.withCancel(Context.root());
        CancellableContext timedOut = withTimeout(Context.root(), Duration.ofMillis(10))) {
      canceled.cancel();
      clock.advance(Duration.ofMillis(10));
      assertThat(canceled.cancellation().cause())
          .isInstanceOf(CanceledException.class)
          .isNotInstanceOf(DeadlineExceededException.class);
      assertThat(timedOut.cancellation().cause())
          .isInstanceOf(DeadlineExceededException.class)
          .hasMessage("context deadline exceeded");
    }
  }

  @Test
  void deadline_cancelsWhenItPasses() {
    try (CancellableContext ctx = withTimeout(Context.root(), Duration.ofMillis(100))) {
      assertThat(ctx.cancellation().timeRemaining()).contains(Duration.ofMillis(100));
      clock.advance(Duration.ofMillis(99));
      assertThat(ctx.cancellation().isCancelled()).isFalse();
      clock.advance(Duration.ofMillis(1));
      assertThat(ctx.cancellation().isCancelled()).isTrue();
      assertThat(ctx.cancel()).isFalse();
    }
  }

  @Test
  void deadlineAlreadyPast_cancelsAtCreation() {
    try (CancellableContext ctx = withTimeout(Context.root(), Duration.ofMillis(-1))) {
      assertThat(ctx.cancellation().cause()).isInstanceOf(DeadlineExceededException.class);
      assertThat(clock.pendingTimers()).isZero();
    }
    try (CancellableContext ctx = withTimeout(Context.root(), Duration.ZERO)) {
      assertThat(ctx.cancellation().isCancelled()).isTrue();
    }
  }

  @Test
  void childDeadline_neverExtendsParent() {
    try (CancellableContext parent = withTimeout(Context.root(), Duration.ofSeconds(1));
        CancellableContext child = withTimeout(parent.context(), Duration.ofSeconds(5))) {
      assertThat(child.cancellation().deadline()).isSameAs(parent.cancellation().deadline());
      // Only the parent needs a timer: the child follows it.
      assertThat(clock.pendingTimers()).isEqualTo(1);
      clock.advance(Duration.ofSeconds(1));
      assertThat(child.cancellation().cause()).isInstanceOf(DeadlineExceededException.class);
    }
  }

  @Test
  void childDeadline_canShortenParent() {
    try (CancellableContext parent = withTimeout(Context.root(), Duration.ofSeconds(5));
        CancellableContext child = withTimeout(parent.context(), Duration.ofSeconds(1))) {
      assertThat(child.cancellation().timeRemaining()).contains(Duration.ofSeconds(1));
      clock.advance(Duration.ofSeconds(1));
      assertThat(child.cancellation().isCancelled()).isTrue();
      assertThat(parent.cancellation().isCancelled()).isFalse();
    }
  }

  @Test
  void withCancel_inheritsTheParentsDeadline() {
    try (CancellableContext parent = withTimeout(Context.root(), Duration.ofSeconds(3));
        CancellableContext child = CancellableContext.withCancel(parent.context())) {
      assertThat(child.cancellation().deadline()).isSameAs(parent.cancellation().deadline());
    }
  }

  @Test
  void cancellingAParent_cancelsEveryDescendantWithTheSameCause() {
    try (CancellableContext parent = CancellableContext.withCancel(Context.root());
        CancellableContext child = CancellableContext.withCancel(parent.context());
        CancellableContext grandchild = withTimeout(child.context(), Duration.ofHours(1))) {
      IOException reason = new IOException("client disconnected");
      parent.cancel(reason);
      assertThat(child.cancellation().cause()).isSameAs(parent.cancellation().cause());
      assertThat(grandchild.cancellation().cause()).isSameAs(parent.cancellation().cause());
      assertThat(grandchild.cancellation().cause()).hasCause(reason);
      assertThat(clock.pendingTimers()).as("the grandchild's timer is released").isZero();
    }
  }

  @Test
  void parentDeadline_cancelsChildrenAsDeadlineExceeded() {
    try (CancellableContext parent = withTimeout(Context.root(), Duration.ofMillis(50));
        CancellableContext child = CancellableContext.withCancel(parent.context())) {
      clock.advance(Duration.ofMillis(50));
      assertThat(child.cancellation().cause()).isInstanceOf(DeadlineExceededException.class);
    }
  }

  @Test
  void cancellingAChild_leavesTheParentAlone() {
    try (CancellableContext parent = CancellableContext.withCancel(Context.root());
        CancellableContext child = CancellableContext.withCancel(parent.context())) {
      child.cancel();
      assertThat(parent.cancellation().isCancelled()).isFalse();
    }
  }

  @Test
  void childOfACancelledParent_isBornCancelled() {
    try (CancellableContext parent = CancellableContext.withCancel(Context.root())) {
      parent.cancel(new IOException("gone"));
      try (CancellableContext child = withTimeout(parent.context(), Duration.ofSeconds(1))) {
        assertThat(child.cancellation().cause()).isSameAs(parent.cancellation().cause());
        assertThat(clock.pendingTimers()).isZero();
      }
    }
  }

  @Test
  void closedChildren_areRemovedFromTheirParent() {
    try (CancellableContext parent = CancellableContext.withCancel(Context.root())) {
      AtomicInteger fired = new AtomicInteger();
      for (int i = 0; i < 100; i++) {
        try (CancellableContext child = CancellableContext.withCancel(parent.context())) {
          child.cancellation().onCancel(c -> fired.incrementAndGet());
        }
      }
      assertThat(fired).hasValue(100);
      assertThat(parent.cancellation()).hasToString("Cancellation{active}");
      assertThat(listenerCount(parent.cancellation())).isZero();
    }
  }

  @Test
  void listeners_runOnceWithTheCause_inRegistrationOrder() {
    try (CancellableContext ctx = CancellableContext.withCancel(Context.root())) {
      List<String> calls = new ArrayList<>();
      ctx.cancellation().onCancel(c -> calls.add("first:" + c.getClass().getSimpleName()));
      ctx.cancellation().onCancel(c -> calls.add("second"));
      ctx.cancel();
      ctx.cancel();
      assertThat(calls).containsExactly("first:CanceledException", "second");
    }
  }

  @Test
  void listenerAddedAfterCancel_runsAtOnce() {
    try (CancellableContext ctx = CancellableContext.withCancel(Context.root())) {
      ctx.cancel();
      AtomicReference<ContextDoneException> seen = new AtomicReference<>();
      ctx.cancellation().onCancel(seen::set);
      assertThat(seen.get()).isSameAs(ctx.cancellation().cause());
    }
  }

  @Test
  void removedListener_neverRuns() {
    try (CancellableContext ctx = CancellableContext.withCancel(Context.root())) {
      AtomicInteger calls = new AtomicInteger();
      Cancellation.Registration r = ctx.cancellation().onCancel(c -> calls.incrementAndGet());
      r.close();
      r.close();
      ctx.cancel();
      assertThat(calls).hasValue(0);
    }
  }

  @Test
  void throwingListener_doesNotStopTheOthersOrTheCascade() {
    try (CancellableContext parent = CancellableContext.withCancel(Context.root());
        CancellableContext child = CancellableContext.withCancel(parent.context())) {
      AtomicInteger after = new AtomicInteger();
      parent
          .cancellation()
          .onCancel(
              c -> {
                throw new IllegalStateException("listener bug");
              });
      parent.cancellation().onCancel(c -> after.incrementAndGet());
      parent.cancel();
      assertThat(after).hasValue(1);
      assertThat(child.cancellation().isCancelled()).isTrue();
    }
  }

  @Test
  void listenerWithExecutor_runsThere() throws Exception {
    ExecutorService executor = Executors.newSingleThreadExecutor(r -> new Thread(r, "listener"));
    try (CancellableContext ctx = CancellableContext.withCancel(Context.root())) {
      CompletableFuture<String> thread = new CompletableFuture<>();
      ctx.cancellation().onCancel(c -> thread.complete(Thread.currentThread().getName()), executor);
      ctx.cancel();
      assertThat(thread.get(5, TimeUnit.SECONDS)).isEqualTo("listener");
    } finally {
      executor.shutdownNow();
    }
  }

  @Test
  void neverCancelledContext_keepsNoListeners() {
    Cancellation.Registration r = Cancellation.fromContext(Context.root()).onCancel(c -> {});
    assertThat(r).isSameAs(Cancellation.Registration.NOOP);
  }

  @Test
  void throwIfCancelled_throwsTheCauseTypeWithTheCallersStack() {
    try (CancellableContext ctx = withTimeout(Context.root(), Duration.ofMillis(5))) {
      ctx.cancellation().throwIfCancelled();
      clock.advance(Duration.ofMillis(5));
      assertThatThrownBy(() -> ctx.cancellation().throwIfCancelled())
          .isInstanceOf(DeadlineExceededException.class)
          .satisfies(
              e ->
                  assertThat(e.getStackTrace())
                      .anySatisfy(
                          f -> assertThat(f.getClassName()).startsWith(getClass().getName())));
      // The recorded cause itself is cheap: no stack trace from the timer thread.
      assertThat(ctx.cancellation().cause().getStackTrace()).isEmpty();
    }
  }

  @Test
  void cancellationIsNotReachableFromTheCurrentContext() {
    try (CancellableContext ctx = CancellableContext.withCancel(Context.root());
        Scope s = ctx.makeCurrent()) {
      Cancellation seen = Cancellation.current();
      assertThat(seen).isSameAs(ctx.cancellation());
      // The read-only view has no public way to cancel.
      assertThat(Cancellation.class.getMethods())
          .extracting(java.lang.reflect.Method::getName)
          .doesNotContain("cancel", "close");
      assertThat(seen.isCancelled()).isFalse();
    }
  }

  @Test
  void anotherLibraryUsingTheSameKeyName_cannotReplaceOurState() {
    try (CancellableContext ctx = CancellableContext.withCancel(Context.root())) {
      ContextKey<Object> impostor = ContextKey.named("tracelet.cancellation");
      Context tampered = ctx.context().with(impostor, "fake");
      assertThat(Cancellation.fromContext(tampered)).isSameAs(ctx.cancellation());
    }
  }

  @Test
  void derivedContext_keepsTheParentsValues() {
    ContextKey<String> key = ContextKey.named("app-value");
    Context parent = Context.root().with(key, "v");
    try (CancellableContext ctx = CancellableContext.withCancel(parent)) {
      assertThat(ctx.context().get(key)).isEqualTo("v");
      assertThat(Cancellation.fromContext(parent).isCancelled()).isFalse();
    }
  }

  @Test
  void await_returnsWhenCancelledOrAfterTheTimeout() throws Exception {
    try (CancellableContext ctx = CancellableContext.withCancel(Context.root())) {
      assertThat(ctx.cancellation().await(Duration.ofMillis(1))).isFalse();
      CountDownLatch waiting = new CountDownLatch(1);
      CompletableFuture<Boolean> result =
          CompletableFuture.supplyAsync(
              () -> {
                waiting.countDown();
                try {
                  return ctx.cancellation().await(Duration.ofSeconds(30));
                } catch (InterruptedException e) {
                  throw new IllegalStateException(e);
                }
              });
      waiting.await();
      ctx.cancel();
      assertThat(result.get(10, TimeUnit.SECONDS)).isTrue();
    }
  }

  @Test
  void toFuture_completesWithTheCause() {
    try (CancellableContext ctx = CancellableContext.withCancel(Context.root())) {
      CompletableFuture<ContextDoneException> done = ctx.cancellation().toFuture();
      assertThat(done).isNotDone();
      ctx.cancel();
      assertThat(done).isCompletedWithValue(ctx.cancellation().cause());
    }
  }

  @Test
  void toFuture_cancelledByTheCaller_removesItsListener() {
    try (CancellableContext ctx = CancellableContext.withCancel(Context.root())) {
      ctx.cancellation().toFuture().cancel(false);
      assertThat(listenerCount(ctx.cancellation())).isZero();
    }
  }

  @Test
  void cancelWhenDone_failsACompletableFutureWithTheCause() {
    try (CancellableContext ctx = withTimeout(Context.root(), Duration.ofMillis(1))) {
      CompletableFuture<String> work = new CompletableFuture<>();
      ctx.cancellation().cancelWhenDone(work);
      clock.advance(Duration.ofMillis(1));
      // A CompletableFuture treats a CancellationException as cancellation (how get() reports it
      // differs between JDK 17 and 25); the recorded exception is the context's cause.
      assertThat(work.isCancelled()).isTrue();
      assertThat(work.handle((v, e) -> e).join()).isInstanceOf(DeadlineExceededException.class);
    }
  }

  @Test
  void cancelWhenDone_cancelsAPlainFuture_andCompletedFuturesLeaveNoListener() {
    try (CancellableContext ctx = CancellableContext.withCancel(Context.root())) {
      FutureTask<String> task = new FutureTask<>(() -> "x");
      ctx.cancellation().cancelWhenDone(task);
      CompletableFuture<String> finished = new CompletableFuture<>();
      ctx.cancellation().cancelWhenDone(finished);
      finished.complete("ok");
      assertThat(listenerCount(ctx.cancellation())).isEqualTo(1);
      ctx.cancel();
      assertThat(task.isCancelled()).isTrue();
    }
  }

  @Test
  void closingBeforeTheDeadline_releasesTheTimer() {
    CancellableContext ctx = withTimeout(Context.root(), Duration.ofMinutes(5));
    assertThat(clock.pendingTimers()).isEqualTo(1);
    ctx.close();
    assertThat(clock.pendingTimers()).isZero();
    assertThat(ctx.cancellation().cause()).isInstanceOf(CanceledException.class);
  }

  @Test
  void wiringMistakes_failFast() {
    assertThatThrownBy(() -> CancellableContext.withCancel(null))
        .isInstanceOf(NullPointerException.class)
        .hasMessageContaining("parent");
    assertThatThrownBy(() -> CancellableContext.withDeadline(Context.root(), (Deadline) null))
        .isInstanceOf(NullPointerException.class)
        .hasMessageContaining("deadline");
    assertThatThrownBy(() -> Cancellation.current().onCancel(null))
        .isInstanceOf(NullPointerException.class);
  }

  @Test
  void closedContexts_shareOneCause_likeGosContextCanceled_butThrowersGetTheirOwnCopy() {
    CancellableContext a = CancellableContext.withCancel(Context.root());
    CancellableContext b = CancellableContext.withCancel(Context.root());
    a.close();
    b.close();
    ContextDoneException cause = a.cancellation().cause();
    assertThat(cause).isInstanceOf(CanceledException.class).hasNoCause();
    assertThat(b.cancellation().cause()).isSameAs(cause);
    assertThat(cause.getStackTrace()).isEmpty();
    Throwable thrown = catchThrowable(() -> a.cancellation().throwIfCancelled());
    assertThat(thrown).isInstanceOf(CanceledException.class).isNotSameAs(cause);
    assertThat(thrown.getStackTrace()).isNotEmpty();
  }

  /** Counts listeners and children still registered, through the toString-free test hook. */
  static int listenerCount(Cancellation c) {
    return c.registeredCount();
  }
}
