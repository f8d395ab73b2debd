package io.tracelet.concurrent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.opentelemetry.context.Context;
import io.opentelemetry.context.ContextKey;
import io.opentelemetry.context.Scope;
import io.tracelet.CanceledException;
import io.tracelet.CancellableContext;
import io.tracelet.Cancellation;
import io.tracelet.Deadline;
import io.tracelet.DeadlineExceededException;
import io.tracelet.RequestId;
import io.tracelet.testsupport.ManualDeadlineClock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledForJreRange;
import org.junit.jupiter.api.condition.JRE;

class ContextExecutorsTest {

  private static final ContextKey<String> USER = ContextKey.named("test.user");

  private final ExecutorService pool = ContextExecutors.wrap(Executors.newFixedThreadPool(2));

  @AfterEach
  void shutDown() throws InterruptedException {
    pool.shutdownNow();
    assertThat(pool.awaitTermination(5, TimeUnit.SECONDS)).isTrue();
    assertThat(Context.current()).isSameAs(Context.root());
  }

  @Test
  void submittedTask_runsInSubmittersContext() throws Exception {
    RequestId id = RequestId.of("req-1");
    try (CancellableContext ctx =
            CancellableContext.withTimeout(
                Context.root().with(USER, "ada").with(id), Duration.ofMinutes(1));
        Scope scope = ctx.makeCurrent()) {
      Future<String> seen =
          pool.submit(
              () ->
                  Context.current().get(USER)
                      + " "
                      + RequestId.currentValue()
                      + " "
                      + Cancellation.current().hasDeadline());
      assertThat(seen.get(5, TimeUnit.SECONDS)).isEqualTo("ada req-1 true");
    }
  }

  @Test
  void executeAndInvokeAll_carryTheContextToo() throws Exception {
    AtomicReference<String> fromExecute = new AtomicReference<>();
    CountDownLatch ran = new CountDownLatch(1);
    try (Scope scope = Context.root().with(USER, "grace").makeCurrent()) {
      pool.execute(
          () -> {
            fromExecute.set(Context.current().get(USER));
            ran.countDown();
          });
      Callable<String> user = () -> Context.current().get(USER);
      List<Future<String>> all = pool.invokeAll(List.of(user, user));
      assertThat(all.get(0).get()).isEqualTo("grace");
      assertThat(all.get(1).get()).isEqualTo("grace");
    }
    assertThat(ran.await(5, TimeUnit.SECONDS)).isTrue();
    assertThat(fromExecute.get()).isEqualTo("grace");
  }

  @Test
  void alreadyCancelledContext_taskIsNotStarted() {
    AtomicBoolean started = new AtomicBoolean();
    Future<?> future;
    try (CancellableContext ctx = CancellableContext.withCancel(Context.root())) {
      ctx.cancel(new IllegalStateException("client went away"));
      try (Scope scope = ctx.makeCurrent()) {
        future = pool.submit(() -> started.set(true));
      }
    }
    assertThat(future.isCancelled()).isTrue();
    assertThatThrownBy(future::get)
        .isInstanceOf(CanceledException.class)
        .hasRootCauseMessage("client went away");
    assertThat(started).isFalse();
  }

  @Test
  void expiredDeadline_taskIsNotStarted_andFutureSaysDeadlineExceeded() {
    ManualDeadlineClock clock = new ManualDeadlineClock();
    AtomicBoolean started = new AtomicBoolean();
    Future<?> future;
    try (CancellableContext ctx =
        CancellableContext.withDeadline(
            Context.root(), Deadline.after(Duration.ofMillis(50), clock))) {
      clock.advance(Duration.ofMillis(50));
      try (Scope scope = ctx.makeCurrent()) {
        future = pool.submit(() -> started.set(true));
      }
    }
    assertThatThrownBy(future::get).isInstanceOf(DeadlineExceededException.class);
    assertThat(started).isFalse();
  }

  @Test
  void queuedTask_isNotStarted_whenItsContextIsCancelledWhileWaiting() throws Exception {
    ExecutorService single = ContextExecutors.wrap(Executors.newSingleThreadExecutor());
    CountDownLatch release = new CountDownLatch(1);
    AtomicBoolean started = new AtomicBoolean();
    try {
      Future<?> blocker =
          single.submit(
              () -> {
                release.await();
                return null;
              });
      Future<?> queued;
      try (CancellableContext ctx = CancellableContext.withCancel(Context.root())) {
        try (Scope scope = ctx.makeCurrent()) {
          queued = single.submit(() -> started.set(true));
        }
        ctx.cancel();
      }
      release.countDown();
      blocker.get(5, TimeUnit.SECONDS);
      assertThatThrownBy(() -> queued.get(5, TimeUnit.SECONDS))
          .isInstanceOf(CanceledException.class);
      assertThat(started).isFalse();
    } finally {
      single.shutdownNow();
    }
  }

  @Test
  void runningTask_isInterrupted_whenItsContextIsCancelled() throws Exception {
    CountDownLatch running = new CountDownLatch(1);
    CountDownLatch interrupted = new CountDownLatch(1);
    try (CancellableContext ctx = CancellableContext.withCancel(Context.root())) {
      Future<?> future;
      try (Scope scope = ctx.makeCurrent()) {
        future =
            pool.submit(
                () -> {
                  running.countDown();
                  try {
                    new CountDownLatch(1).await();
                  } catch (InterruptedException e) {
                    interrupted.countDown();
                  }
                });
      }
      assertThat(running.await(5, TimeUnit.SECONDS)).isTrue();
      ctx.cancel();
      assertThat(interrupted.await(5, TimeUnit.SECONDS)).isTrue();
      assertThat(future.isCancelled()).isTrue();
      assertThatThrownBy(future::get).isInstanceOf(CanceledException.class);
    }
  }

  @Test
  void finishedTask_keepsItsResult_whenTheContextIsCancelledLater() throws Exception {
    try (CancellableContext ctx = CancellableContext.withCancel(Context.root())) {
      Future<String> future;
      try (Scope scope = ctx.makeCurrent()) {
        future = pool.submit(() -> "done");
      }
      assertThat(future.get(5, TimeUnit.SECONDS)).isEqualTo("done");
      ctx.cancel();
      assertThat(future.isCancelled()).isFalse();
      assertThat(future.get()).isEqualTo("done");
    }
  }

  @Test
  void futureCancelledByCaller_stillThrowsPlainCancellation() {
    CountDownLatch never = new CountDownLatch(1);
    try (CancellableContext ctx = CancellableContext.withCancel(Context.root());
        Scope scope = ctx.makeCurrent()) {
      Future<?> future =
          pool.submit(
              () -> {
                never.await();
                return null;
              });
      future.cancel(true);
      assertThatThrownBy(future::get)
          .isInstanceOf(java.util.concurrent.CancellationException.class)
          .isNotInstanceOf(CanceledException.class);
    }
  }

  @Test
  void executeWithCancelledContext_isSkipped() throws Exception {
    ExecutorService single = ContextExecutors.wrap(Executors.newSingleThreadExecutor());
    AtomicBoolean started = new AtomicBoolean();
    try (CancellableContext ctx = CancellableContext.withCancel(Context.root())) {
      ctx.cancel();
      try (Scope scope = ctx.makeCurrent()) {
        single.execute(() -> started.set(true));
      }
    }
    single.shutdown();
    assertThat(single.awaitTermination(5, TimeUnit.SECONDS)).isTrue();
    assertThat(started).isFalse();
  }

  @Test
  @EnabledForJreRange(min = JRE.JAVA_21)
  void virtualThreads_carryTheContext_andAreCancelledWithIt() throws Exception {
    // Compiled for Java 17: reach the JDK 21 factory reflectively.
    ExecutorService virtual =
        ContextExecutors.wrap(
            (ExecutorService)
                Executors.class.getMethod("newVirtualThreadPerTaskExecutor").invoke(null));
    CountDownLatch running = new CountDownLatch(1);
    try (CancellableContext ctx =
        CancellableContext.withTimeout(
            Context.root().with(USER, "linus").with(RequestId.of("vt-1")), Duration.ofMinutes(1))) {
      Future<String> seen;
      Future<?> blocked;
      try (Scope scope = ctx.makeCurrent()) {
        seen =
            virtual.submit(
                () ->
                    Context.current().get(USER)
                        + " "
                        + RequestId.currentValue()
                        + " "
                        + Thread.class.getMethod("isVirtual").invoke(Thread.currentThread()));
        blocked =
            virtual.submit(
                () -> {
                  running.countDown();
                  new CountDownLatch(1).await();
                  return null;
                });
      }
      assertThat(seen.get(5, TimeUnit.SECONDS)).isEqualTo("linus vt-1 true");
      assertThat(running.await(5, TimeUnit.SECONDS)).isTrue();
      ctx.cancel();
      assertThatThrownBy(() -> blocked.get(5, TimeUnit.SECONDS))
          .isInstanceOf(CanceledException.class);
    } finally {
      virtual.shutdownNow();
    }
  }
}
