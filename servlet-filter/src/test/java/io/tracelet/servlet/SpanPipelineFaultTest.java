package io.tracelet.servlet;

import static org.assertj.core.api.Assertions.assertThat;

import io.opentelemetry.context.Context;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.ReadWriteSpan;
import io.opentelemetry.sdk.trace.ReadableSpan;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.SpanProcessor;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.BatchSpanProcessor;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import io.opentelemetry.sdk.trace.export.SpanExporter;
import jakarta.servlet.DispatcherType;
import java.time.Duration;
import java.util.Collection;
import java.util.EnumSet;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.eclipse.jetty.ee10.servlet.FilterHolder;
import org.eclipse.jetty.ee10.servlet.ServletContextHandler;
import org.eclipse.jetty.ee10.servlet.ServletHolder;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Issue 7, section 2: a span processor or exporter that throws or blocks does not fail or stall the
 * requests going through the real {@link TracingFilter} on embedded Jetty.
 *
 * <p>Each test runs {@value #REQUESTS} requests, {@value #CLIENTS} at a time, and checks that every
 * one is answered 200 by the application. A second, healthy processor next to the faulty one shows
 * which spans were still recorded, and the current context is the root context afterwards.
 */
class SpanPipelineFaultTest {

  private static final int REQUESTS = 60;
  private static final int CLIENTS = 6;

  private final InMemorySpanExporter healthy = InMemorySpanExporter.create();
  private final CountDownLatch release = new CountDownLatch(1);
  private final List<CompletableResultCode> pending = new CopyOnWriteArrayList<>();
  private Server server;
  private TracingFilter filter;
  private OpenTelemetrySdk otel;

  @AfterEach
  void stop() throws Exception {
    // Unblocks the blocking exporter and completes the pending exports, so the SDK can shut down.
    release.countDown();
    pending.forEach(CompletableResultCode::succeed);
    if (server != null) {
      server.stop();
    }
    if (otel != null) {
      otel.shutdown().join(10, TimeUnit.SECONDS);
    }
    assertThat(Context.current()).isSameAs(Context.root());
  }

  @Test
  void exporterThatThrows_behindBatchProcessor_failsNoRequest() throws Exception {
    AtomicInteger calls = new AtomicInteger();
    SpanExporter throwing =
        exporter(
            spans -> {
              calls.incrementAndGet();
              throw new IllegalStateException("exporter broken");
            });
    start(batch(throwing, 2048), SimpleSpanProcessor.create(healthy));

    sendAll("/echo");

    awaitSpans(REQUESTS);
    otel.getSdkTracerProvider().forceFlush().join(10, TimeUnit.SECONDS);
    assertThat(calls).as("the batch processor kept calling the exporter").hasPositiveValue();
  }

  @Test
  void exporterThatBlocksForever_behindBatchProcessor_stallsNoRequest() throws Exception {
    AtomicInteger entered = new AtomicInteger();
    SpanExporter blocking =
        exporter(
            spans -> {
              entered.incrementAndGet();
              await(release); // holds the processor's worker thread, never the request's
              return CompletableResultCode.ofSuccess();
            });
    // A small queue, so it fills while the exporter hangs: the processor then drops spans
    // instead of making the requests wait.
    start(batch(blocking, 8), SimpleSpanProcessor.create(healthy));

    sendAll("/echo");

    awaitSpans(REQUESTS);
    assertThat(entered).as("the exporter was called and is still blocked").hasValue(1);
  }

  @Test
  void exporterThatNeverCompletes_behindSimpleProcessor_stallsNoRequest() throws Exception {
    // What the real OTLP exporters do against an endpoint that never answers: export() returns a
    // result that is still pending. SimpleSpanProcessor does not wait for it on the request thread.
    AtomicInteger calls = new AtomicInteger();
    SpanExporter neverCompletes =
        exporter(
            spans -> {
              calls.incrementAndGet();
              CompletableResultCode result = new CompletableResultCode();
              pending.add(result);
              return result;
            });
    start(SimpleSpanProcessor.create(neverCompletes), SimpleSpanProcessor.create(healthy));

    sendAll("/echo");

    awaitSpans(REQUESTS);
    assertThat(calls).hasValue(REQUESTS);
  }

  @Test
  void processorWhoseOnStartThrows_requestsRunUntraced() throws Exception {
    start(
        new FaultyProcessor(true, false),
        SimpleSpanProcessor.create(healthy),
        BatchSpanProcessor.builder(healthy).build());

    sendAll("/echo");

    // The SDK could not start the server span, so the filter ran the requests untraced.
    assertThat(healthy.getFinishedSpanItems()).isEmpty();
  }

  @Test
  void processorWhoseOnEndThrows_failsNoRequestAndLeavesNoContext() throws Exception {
    start(SimpleSpanProcessor.create(healthy), new FaultyProcessor(false, true));

    sendAll("/echo");
    sendAll("/async-dispatch"); // ended by the async listener, on a container thread

    // Every server span reached the healthy processor before the broken one threw, and each
    // failure was counted (and logged once, not per request).
    awaitSpans(2 * REQUESTS);
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (filter.spanEndFailureCount() < 2 * REQUESTS && System.nanoTime() - end < 0) {
      Thread.sleep(5); // counted just after the healthy processor saw the span
    }
    assertThat(filter.spanEndFailureCount()).isEqualTo(2 * REQUESTS);
  }

  private void start(SpanProcessor... processors) throws Exception {
    otel =
        OpenTelemetrySdk.builder()
            .setTracerProvider(
                SdkTracerProvider.builder()
                    .addSpanProcessor(SpanProcessor.composite(processors))
                    .build())
            .build();
    filter = new TracingFilter(TracingConfig.builder().openTelemetry(otel).build());
    server = new Server();
    ServerConnector connector = new ServerConnector(server);
    connector.setHost("127.0.0.1");
    connector.setPort(0);
    server.addConnector(connector);
    ServletContextHandler context = new ServletContextHandler();
    context.setContextPath("/");
    FilterHolder holder = new FilterHolder(filter);
    holder.setAsyncSupported(true);
    context.addFilter(holder, "/*", EnumSet.of(DispatcherType.REQUEST, DispatcherType.ASYNC));
    ServletHolder app = new ServletHolder(new AppServlet());
    app.setAsyncSupported(true);
    for (String mapping : AppServlet.MAPPINGS) {
      context.addServlet(app, mapping);
    }
    server.setHandler(context);
    server.start();
  }

  /** Sends the requests concurrently; each must be answered 200 (RawHttp's read timeout: 20 s). */
  private void sendAll(String path) throws Exception {
    int port = ((ServerConnector) server.getConnectors()[0]).getLocalPort();
    ExecutorService clients = Executors.newFixedThreadPool(CLIENTS);
    try {
      List<Future<RawHttp.Response>> responses =
          java.util.stream.IntStream.range(0, REQUESTS)
              .mapToObj(i -> clients.submit(() -> RawHttp.send(port, "GET", path)))
              .toList();
      for (Future<RawHttp.Response> response : responses) {
        assertThat(response.get(30, TimeUnit.SECONDS).status()).as(path).isEqualTo(200);
      }
    } finally {
      clients.shutdownNow();
    }
  }

  /**
   * Waits (bounded) until the healthy processor has seen {@code count} spans: the server span ends
   * once the response is complete, so the client can read its answer a moment before.
   */
  private void awaitSpans(int count) throws InterruptedException {
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (healthy.getFinishedSpanItems().size() < count && System.nanoTime() - end < 0) {
      Thread.sleep(5);
    }
    assertThat(healthy.getFinishedSpanItems()).hasSize(count);
  }

  private static BatchSpanProcessor batch(SpanExporter exporter, int maxQueueSize) {
    return BatchSpanProcessor.builder(exporter)
        .setMaxQueueSize(maxQueueSize)
        .setMaxExportBatchSize(Math.min(maxQueueSize, 512))
        .setScheduleDelay(Duration.ofMillis(10))
        .build();
  }

  private static void await(CountDownLatch latch) {
    try {
      latch.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static SpanExporter exporter(
      Function<Collection<SpanData>, CompletableResultCode> export) {
    return new SpanExporter() {
      @Override
      public CompletableResultCode export(Collection<SpanData> spans) {
        return export.apply(spans);
      }

      @Override
      public CompletableResultCode flush() {
        return CompletableResultCode.ofSuccess();
      }

      @Override
      public CompletableResultCode shutdown() {
        return CompletableResultCode.ofSuccess();
      }
    };
  }

  /** A processor that throws from {@code onStart} and/or {@code onEnd}. */
  private static final class FaultyProcessor implements SpanProcessor {
    private final boolean throwOnStart;
    private final boolean throwOnEnd;

    FaultyProcessor(boolean throwOnStart, boolean throwOnEnd) {
      this.throwOnStart = throwOnStart;
      this.throwOnEnd = throwOnEnd;
    }

    @Override
    public void onStart(Context parentContext, ReadWriteSpan span) {
      if (throwOnStart) {
        throw new IllegalStateException("onStart broken");
      }
    }

    @Override
    public boolean isStartRequired() {
      return true;
    }

    @Override
    public void onEnd(ReadableSpan span) {
      if (throwOnEnd) {
        throw new IllegalStateException("onEnd broken");
      }
    }

    @Override
    public boolean isEndRequired() {
      return true;
    }
  }
}
