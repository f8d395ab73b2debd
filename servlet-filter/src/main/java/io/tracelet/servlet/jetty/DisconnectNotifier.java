package io.tracelet.servlet.jetty;

import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs the disconnect notifications of every watch in the process on one daemon thread of our own,
 * {@value #THREAD_NAME}, started when the first one is needed.
 *
 * <p>Why a thread of our own: a disconnect is noticed on one of Jetty's threads, often its selector
 * (the read probe's callback, a connection's close listener), and what it runs cancels the request
 * context, which runs the context's cancellation listeners: the application's, and tracelet-core's
 * {@code Statement.cancel()} and HTTP client aborts, which may block. On the selector they would
 * stall every connection of that selector. On Jetty's pool they would wait behind the very requests
 * that are waiting for the cancellation: with the pool full of handlers whose clients left, nothing
 * was noticed until the handlers gave up (issue 14). Waking a waiting handler needs no pool thread,
 * so the notification must not need one either.
 *
 * <p>One thread and an unbounded queue are enough: disconnects are rare next to requests, the
 * cancellation itself only signals waiting threads, and a slow listener delays only the
 * notifications queued behind it. The thread ends after a minute without work, so a redeployed web
 * application does not keep its class loader alive through it.
 */
final class DisconnectNotifier {
  static final String THREAD_NAME = "tracelet-disconnect";

  private static final Logger logger = LoggerFactory.getLogger(DisconnectNotifier.class);

  private DisconnectNotifier() {}

  /** Runs {@code notification} soon on the notification thread; never blocks, never throws. */
  static void execute(Runnable notification) {
    try {
      Holder.EXECUTOR.execute(() -> runSafely(notification));
    } catch (RuntimeException rejected) {
      // Not expected: the queue is unbounded and the executor is never shut down.
      logger.debug("Running a disconnect notification on the calling thread", rejected);
      runSafely(notification);
    }
  }

  private static void runSafely(Runnable notification) {
    try {
      notification.run();
    } catch (RuntimeException e) {
      // The thread serves every request in the process; one failure must not end it.
      logger.warn("A client-disconnect notification failed", e);
    }
  }

  /** Created on first use, so that a process that never sees a disconnect never has the thread. */
  private static final class Holder {
    static final ThreadPoolExecutor EXECUTOR = create();

    private static ThreadPoolExecutor create() {
      ThreadPoolExecutor executor =
          new ThreadPoolExecutor(
              1,
              1,
              1,
              TimeUnit.MINUTES,
              new LinkedBlockingQueue<>(),
              task -> {
                Thread t = new Thread(task, THREAD_NAME);
                t.setDaemon(true);
                // Not the context class loader of whichever Jetty thread happened to start it.
                t.setContextClassLoader(DisconnectNotifier.class.getClassLoader());
                return t;
              });
      executor.allowCoreThreadTimeOut(true);
      return executor;
    }
  }
}
