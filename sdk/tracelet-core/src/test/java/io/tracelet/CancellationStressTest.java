package io.tracelet;

import static org.assertj.core.api.Assertions.assertThat;

import io.opentelemetry.context.Context;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicIntegerArray;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(ContextLeakCheck.class)
class CancellationStressTest {

  @Test
  void childrenCreatedWhileTheParentIsCancelled_allEndCancelled_listenersRunOnce()
      throws Exception {
    int threads = 4;
    int perThread = 2_500;
    CancellableContext parent = CancellableContext.withCancel(Context.root());
    AtomicIntegerArray calls = new AtomicIntegerArray(threads * perThread);
    ConcurrentLinkedQueue<CancellableContext> children = new ConcurrentLinkedQueue<>();
    ExecutorService pool = Executors.newFixedThreadPool(threads + 1);
    CountDownLatch start = new CountDownLatch(1);
    try {
      List<Future<?>> futures = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        int base = t * perThread;
        futures.add(
            pool.submit(
                () -> {
                  start.await();
                  for (int i = 0; i < perThread; i++) {
                    int slot = base + i;
                    CancellableContext child = CancellableContext.withCancel(parent.context());
                    child.cancellation().onCancel(c -> calls.incrementAndGet(slot));
                    children.add(child);
                  }
                  return null;
                }));
      }
      futures.add(
          pool.submit(
              () -> {
                start.await();
                // Let some children exist before and some after the cancel.
                while (children.size() < threads * perThread / 3) {
                  Thread.onSpinWait();
                }
                parent.cancel();
                return null;
              }));
      start.countDown();
      for (Future<?> f : futures) {
        f.get(60, TimeUnit.SECONDS);
      }
    } finally {
      pool.shutdownNow();
    }
    assertThat(children).hasSize(threads * perThread);
    for (CancellableContext child : children) {
      assertThat(child.cancellation().cause()).isSameAs(parent.cancellation().cause());
      child.close();
    }
    for (int i = 0; i < calls.length(); i++) {
      assertThat(calls.get(i)).as("listener %d", i).isEqualTo(1);
    }
  }

  @Test
  void aMillionShortLivedChildren_leaveNothingInTheParentOrTheScheduler() {
    int timersBefore = SystemDeadlineClock.pendingTimers();
    try (CancellableContext parent = CancellableContext.withCancel(Context.root())) {
      for (int i = 0; i < 1_000_000; i++) {
        try (CancellableContext child =
            CancellableContext.withTimeout(parent.context(), Duration.ofMinutes(10))) {
          child.cancellation().isCancelled();
        }
      }
      assertThat(parent.cancellation().registeredCount()).isZero();
      assertThat(SystemDeadlineClock.pendingTimers()).isEqualTo(timersBefore);
      assertThat(parent.cancellation().isCancelled()).isFalse();
    }
  }

  @Test
  void realTimer_firesTheDeadline() throws Exception {
    try (CancellableContext ctx =
        CancellableContext.withTimeout(Context.root(), Duration.ofMillis(20))) {
      assertThat(ctx.cancellation().await(Duration.ofSeconds(10))).isTrue();
      assertThat(ctx.cancellation().cause()).isInstanceOf(DeadlineExceededException.class);
    }
  }
}
