package io.tracelet.servlet.jetty;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static java.util.concurrent.TimeUnit.MILLISECONDS;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;

import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.tracelet.CanceledException;
import io.tracelet.Cancellation;
import io.tracelet.ContextDoneException;
import io.tracelet.RequestId;
import io.tracelet.servlet.TestSdks;
import io.tracelet.servlet.TracingConfig;
import io.tracelet.servlet.TracingFilter;
import jakarta.servlet.DispatcherType;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAccumulator;
import org.eclipse.jetty.ee10.servlet.FilterHolder;
import org.eclipse.jetty.ee10.servlet.ServletContextHandler;
import org.eclipse.jetty.ee10.servlet.ServletHolder;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Issue 14: client disconnects are noticed while Jetty's thread pool is full. Sixteen HTTP/1.1
 * clients send a slow request at once to a Jetty that has six threads for requests, and leave as
 * soon as all six are busy in a handler (the overload the issue describes; a latch, not a sleep).
 * Every request must be cancelled as "client disconnected", within the bound of one second
 * after its client left, or before its handler started (it waited in the pool's queue while its
 * client left); none may do its five seconds of work.
 *
 * <p>Before the fix, noticing a close needed a pooled thread (the probe's callback and the
 * notification were dispatched to Jetty's pool), so with every thread in a handler waiting for
 * exactly that notice, nothing was noticed until the handlers gave up after five seconds.
 */
class OverloadDisconnectTest {
  private static final int CLIENTS = 16;
  private static final Duration WORK = Duration.ofSeconds(5);
  // The requirement: from the client leaving to the cancellation.
  private static final Duration BOUND = Duration.ofSeconds(1);
  // A handler that starts this long after its client left was surely queued when the client left
  // (the close reaches the server at once over loopback), so its watch could see it.
  private static final Duration QUEUED_MARGIN = Duration.ofMillis(50);
  // Eight threads: one acceptor, one selector, six for requests.
  private static final int POOL_THREADS = 8;
  private static final int REQUEST_THREADS = POOL_THREADS - 2;

  /** What a request's handler saw. */
  enum Seen {
    CANCELLED_BEFORE_START,
    CANCELLED_WHILE_WORKING,
    RAN_TO_END
  }

  record Outcome(Seen seen, long startedNanos, long atNanos, ContextDoneException cause) {}

  private final InMemorySpanExporter spans = InMemorySpanExporter.create();
  private final OpenTelemetrySdk sdk = TestSdks.recordingInto(spans);
  private final Map<String, Outcome> outcomes = new ConcurrentHashMap<>();
  private final Map<String, Long> clientLeftAt = new ConcurrentHashMap<>();
  private final CountDownLatch allSeen = new CountDownLatch(CLIENTS);
  private final CountDownLatch firstRanToEnd = new CountDownLatch(1);
  private final AtomicInteger working = new AtomicInteger();
  // Counted down by each handler that starts working: at zero every request thread is taken.
  private final CountDownLatch poolFull = new CountDownLatch(REQUEST_THREADS);
  private final LongAccumulator maxWorking = new LongAccumulator(Math::max, 0);
  private Server server;
  private int port;

  @BeforeEach
  void start() throws Exception {
    QueuedThreadPool threads = new QueuedThreadPool(POOL_THREADS, POOL_THREADS);
    // No idle threads held back for Jetty's own use: every thread that is not the acceptor or the
    // selector serves requests, so sixteen requests overload the pool.
    threads.setReservedThreads(0);
    threads.setName("overload-qtp");
    server = new Server(threads);
    ServerConnector connector = new ServerConnector(server, 1, 1, new HttpConnectionFactory());
    connector.setHost("127.0.0.1");
    connector.setPort(0);
    server.addConnector(connector);
    ServletContextHandler context = new ServletContextHandler();
    context.addFilter(
        new FilterHolder(new TracingFilter(TracingConfig.builder().openTelemetry(sdk).build())),
        "/*",
        EnumSet.of(DispatcherType.REQUEST));
    context.addServlet(new ServletHolder(new SlowServlet()), "/slow");
    server.setHandler(context);
    server.start();
    port = connector.getLocalPort();
  }

  @AfterEach
  void stop() throws Exception {
    server.stop();
    sdk.close();
  }

  @Test
  void clientsLeaveAFullPool_everyRequestIsCancelledInTime() throws Exception {
    ExecutorService clients = Executors.newFixedThreadPool(CLIENTS);
    try {
      CountDownLatch connected = new CountDownLatch(CLIENTS);
      CountDownLatch go = new CountDownLatch(1);
      List<Future<?>> sent = new ArrayList<>();
      for (int i = 0; i < CLIENTS; i++) {
        String id = "overload-" + i;
        sent.add(
            clients.submit(
                () -> {
                  try (Socket socket = new Socket()) {
                    socket.connect(new InetSocketAddress("127.0.0.1", port), 5_000);
                    connected.countDown();
                    go.await();
                    socket
                        .getOutputStream()
                        .write(
                            ("GET /slow HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Request-ID: "
                                    + id
                                    + "\r\n\r\n")
                                .getBytes(US_ASCII));
                    // Leave once the pool is full, so the other requests wait in its queue.
                    if (!poolFull.await(10, SECONDS)) {
                      throw new AssertionError("the pool never filled with working handlers");
                    }
                    clientLeftAt.put(id, System.nanoTime());
                  }
                  return null;
                }));
      }
      assertThat(connected.await(10, SECONDS)).isTrue();
      go.countDown();
      for (Future<?> f : sent) {
        f.get(10, SECONDS);
      }

      // Waits for every handler to report, or for the first that did all its work (the failure
      // this test is about; the rest would take rounds of five seconds more).
      long until = System.nanoTime() + SECONDS.toNanos(20);
      while (allSeen.getCount() > 0 && firstRanToEnd.getCount() > 0) {
        assertThat(System.nanoTime()).as("handlers reported within 20 s").isLessThan(until);
        firstRanToEnd.await(10, MILLISECONDS);
      }
    } finally {
      clients.shutdownNow();
    }

    System.out.printf(
        "[overload-disconnect] %d requests, at most %d handlers at once: %s%n",
        CLIENTS, maxWorking.get(), summary());
    assertThat(outcomes.values())
        .extracting(Outcome::seen)
        .as("handlers that worked to their end")
        .doesNotContain(Seen.RAN_TO_END);
    assertThat(outcomes).as("a report from every request's handler").hasSize(CLIENTS);
    assertThat(maxWorking.get())
        .as("the pool was overloaded: requests waited for a thread")
        .isLessThan(CLIENTS);
    outcomes.forEach(
        (id, outcome) -> {
          assertThat(outcome.cause()).as(id).isInstanceOf(CanceledException.class);
          assertThat(outcome.cause().getCause()).as(id).hasMessage("client disconnected");
          long left = clientLeftAt.get(id);
          if (outcome.seen() == Seen.CANCELLED_WHILE_WORKING) {
            assertThat(Duration.ofNanos(outcome.atNanos() - left))
                .as("%s: from its client leaving to the cancellation", id)
                .isLessThan(BOUND);
          }
          if (outcome.startedNanos() - left > QUEUED_MARGIN.toNanos()) {
            // It waited in the queue while its client left: the application must not start it.
            assertThat(outcome.seen()).as(id).isEqualTo(Seen.CANCELLED_BEFORE_START);
          }
        });
    assertThat(outcomes.values())
        .extracting(Outcome::seen)
        .as("some requests waited in the queue while their client left")
        .contains(Seen.CANCELLED_BEFORE_START);
  }

  private String summary() {
    StringBuilder b = new StringBuilder();
    outcomes.entrySet().stream()
        .sorted(Map.Entry.comparingByKey())
        .forEach(
            e -> {
              Outcome o = e.getValue();
              b.append(e.getKey()).append('=').append(o.seen());
              Long left = clientLeftAt.get(e.getKey());
              if (left != null) {
                // Both relative to the client leaving.
                b.append(
                    String.format(
                        Locale.ROOT,
                        " (started %+.1f ms, done %+.1f ms)",
                        (o.startedNanos() - left) / 1e6,
                        (o.atNanos() - left) / 1e6));
              }
              b.append("; ");
            });
    return b.toString();
  }

  /** Five seconds of work in the request context, unless the context ends first. */
  private final class SlowServlet extends HttpServlet {
    @Override
    protected void doGet(HttpServletRequest req, HttpServletResponse resp) {
      RequestId current = RequestId.current();
      String id = current == null ? req.getHeader("X-Request-ID") : current.value();
      Cancellation c = Cancellation.current();
      long startedAt = System.nanoTime();
      if (c.isCancelled()) {
        report(id, new Outcome(Seen.CANCELLED_BEFORE_START, startedAt, startedAt, c.cause()));
        return;
      }
      maxWorking.accumulate(working.incrementAndGet());
      poolFull.countDown();
      try {
        if (c.await(WORK)) {
          report(
              id,
              new Outcome(Seen.CANCELLED_WHILE_WORKING, startedAt, System.nanoTime(), c.cause()));
        } else {
          report(id, new Outcome(Seen.RAN_TO_END, startedAt, System.nanoTime(), null));
          firstRanToEnd.countDown();
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      } finally {
        working.decrementAndGet();
      }
    }

    private void report(String id, Outcome outcome) {
      if (outcomes.putIfAbsent(id, outcome) == null) {
        allSeen.countDown();
      }
    }
  }
}
