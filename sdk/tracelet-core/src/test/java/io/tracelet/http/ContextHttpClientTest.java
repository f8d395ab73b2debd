package io.tracelet.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.Scope;
import io.opentelemetry.context.propagation.ContextPropagators;
import io.opentelemetry.context.propagation.TextMapGetter;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import io.opentelemetry.semconv.ErrorAttributes;
import io.opentelemetry.semconv.HttpAttributes;
import io.opentelemetry.semconv.ServerAttributes;
import io.opentelemetry.semconv.UrlAttributes;
import io.tracelet.CanceledException;
import io.tracelet.CancellableContext;
import io.tracelet.Deadline;
import io.tracelet.DeadlineExceededException;
import io.tracelet.DeadlineHeader;
import io.tracelet.RequestId;
import io.tracelet.testsupport.ManualDeadlineClock;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpHeaders;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpResponse.BodyHandlers;
import java.net.http.HttpTimeoutException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledForJreRange;
import org.junit.jupiter.api.condition.JRE;

class ContextHttpClientTest {

  private static final TextMapGetter<HttpHeaders> HEADERS =
      new TextMapGetter<>() {
        @Override
        public Iterable<String> keys(HttpHeaders carrier) {
          return carrier.map().keySet();
        }

        @Override
        public String get(HttpHeaders carrier, String key) {
          return carrier == null ? null : carrier.firstValue(key).orElse(null);
        }
      };

  private final InMemorySpanExporter exporter = InMemorySpanExporter.create();
  private final SdkTracerProvider tracerProvider =
      SdkTracerProvider.builder().addSpanProcessor(SimpleSpanProcessor.create(exporter)).build();
  private final OpenTelemetry otel =
      OpenTelemetrySdk.builder()
          .setTracerProvider(tracerProvider)
          .setPropagators(ContextPropagators.create(W3CTraceContextPropagator.getInstance()))
          .build();
  private final ManualDeadlineClock clock = new ManualDeadlineClock();
  private final HttpClient plain = HttpClient.newHttpClient();
  private Downstream downstream;
  private HttpClient client;

  @BeforeEach
  void start() throws Exception {
    downstream = new Downstream();
    client = ContextHttpClient.builder(plain).setOpenTelemetry(otel).enableDeadlineHeader().build();
  }

  @AfterEach
  void stop() throws Exception {
    downstream.close();
    tracerProvider.close();
    assertThat(Context.current()).isSameAs(Context.root());
  }

  @Test
  void traceContinuesAcrossTheHop_withTheClientSpanAsParent() throws Exception {
    Span caller = otel.getTracer("test").spanBuilder("caller").startSpan();
    HttpResponse<String> response;
    try (Scope scope = caller.makeCurrent()) {
      response = client.send(get("/ok?sig=secret&page=2"), BodyHandlers.ofString());
    } finally {
      caller.end();
    }
    assertThat(response.statusCode()).isEqualTo(200);

    SpanData clientSpan = onlyClientSpan();
    assertThat(clientSpan.getName()).isEqualTo("GET");
    assertThat(clientSpan.getParentSpanId()).isEqualTo(caller.getSpanContext().getSpanId());
    assertThat(clientSpan.getTraceId()).isEqualTo(caller.getSpanContext().getTraceId());
    // What the server extracts is the CLIENT span: the downstream's spans will hang under it.
    SpanContext extracted =
        Span.fromContext(
                W3CTraceContextPropagator.getInstance()
                    .extract(Context.root(), downstream.lastHeaders(), HEADERS))
            .getSpanContext();
    assertThat(extracted.isRemote()).isTrue();
    assertThat(extracted.getTraceId()).isEqualTo(clientSpan.getTraceId());
    assertThat(extracted.getSpanId()).isEqualTo(clientSpan.getSpanId());
    assertThat(extracted.isSampled()).isTrue();
    assertThat(clientSpan.getAttributes().get(HttpAttributes.HTTP_REQUEST_METHOD)).isEqualTo("GET");
    assertThat(clientSpan.getAttributes().get(UrlAttributes.URL_FULL))
        .isEqualTo(downstream.uri("/ok?sig=REDACTED&page=2").toString());
    assertThat(clientSpan.getAttributes().get(ServerAttributes.SERVER_ADDRESS))
        .isEqualTo("127.0.0.1");
    assertThat(clientSpan.getAttributes().get(ServerAttributes.SERVER_PORT))
        .isEqualTo((long) downstream.port());
    assertThat(clientSpan.getAttributes().get(HttpAttributes.HTTP_RESPONSE_STATUS_CODE))
        .isEqualTo(200L);
    assertThat(clientSpan.getStatus().getStatusCode()).isEqualTo(StatusCode.UNSET);
  }

  @Test
  void requestId_isForwarded_unlessTheRequestSetsItsOwn() throws Exception {
    try (Scope scope = Context.root().with(RequestId.of("req-42")).makeCurrent()) {
      client.send(get("/ok"), BodyHandlers.discarding());
      assertThat(downstream.lastHeaders().allValues("X-Request-ID")).containsExactly("req-42");

      HttpRequest own =
          HttpRequest.newBuilder(downstream.uri("/ok")).header("X-Request-ID", "mine").build();
      client.send(own, BodyHandlers.discarding());
      assertThat(downstream.lastHeaders().allValues("X-Request-ID")).containsExactly("mine");
    }
  }

  @Test
  void remainingTime_isSentInTheDeadlineHeader() throws Exception {
    try (CancellableContext ctx = deadlineIn(Duration.ofMillis(1_500));
        Scope scope = ctx.makeCurrent()) {
      client.send(get("/ok"), BodyHandlers.discarding());
    }
    assertThat(downstream.lastHeaders().firstValue(DeadlineHeader.DEFAULT_NAME)).hasValue("1500");
  }

  @Test
  void grpcTimeoutAsDeadlineHeader_isSentInTheGrpcSyntax() throws Exception {
    HttpClient grpc =
        ContextHttpClient.builder(plain)
            .setOpenTelemetry(otel)
            .setDeadlineHeader("grpc-timeout")
            .build();
    try (CancellableContext ctx = deadlineIn(Duration.ofMillis(1_500));
        Scope scope = ctx.makeCurrent()) {
      grpc.send(get("/ok"), BodyHandlers.discarding());
    }
    assertThat(downstream.lastHeaders().firstValue("grpc-timeout")).hasValue("1500m");
  }

  @Test
  void withoutADeadline_noDeadlineHeaderIsSent() throws Exception {
    client.send(get("/ok"), BodyHandlers.discarding());
    assertThat(downstream.lastHeaders().firstValue(DeadlineHeader.DEFAULT_NAME)).isEmpty();
  }

  @Test
  void deadlineBoundsTheCall_andIsReportedAsDeadlineExceeded() {
    // 300 ms on the test clock, which does not move: the HTTP client's own timer, set from the
    // remaining time, is what ends the call.
    try (CancellableContext ctx = deadlineIn(Duration.ofMillis(300));
        Scope scope = ctx.makeCurrent()) {
      assertThatThrownBy(() -> client.send(get("/slow"), BodyHandlers.ofString()))
          .isInstanceOf(DeadlineExceededException.class)
          .hasCauseInstanceOf(HttpTimeoutException.class);
    }
    SpanData span = onlyClientSpan();
    assertThat(span.getStatus().getStatusCode()).isEqualTo(StatusCode.ERROR);
    assertThat(span.getAttributes().get(ErrorAttributes.ERROR_TYPE))
        .isEqualTo(DeadlineExceededException.class.getName());
  }

  @Test
  void shorterRequestTimeout_stillWins_andStaysAnHttpTimeout() {
    try (CancellableContext ctx = deadlineIn(Duration.ofSeconds(60));
        Scope scope = ctx.makeCurrent()) {
      HttpRequest request =
          HttpRequest.newBuilder(downstream.uri("/slow")).timeout(Duration.ofMillis(200)).build();
      assertThatThrownBy(() -> client.send(request, BodyHandlers.ofString()))
          .isExactlyInstanceOf(HttpTimeoutException.class);
    }
  }

  @Test
  void cancellingTheContext_abortsAnInFlightCall() throws Exception {
    try (CancellableContext ctx = CancellableContext.withCancel(Context.root())) {
      CompletableFuture<Throwable> caller =
          CompletableFuture.supplyAsync(
              () -> {
                try (Scope scope = ctx.makeCurrent()) {
                  client.send(get("/slow"), BodyHandlers.ofString());
                  return null;
                } catch (IOException | InterruptedException | RuntimeException e) {
                  return e;
                }
              });
      assertThat(downstream.slowEntered.await(10, TimeUnit.SECONDS)).isTrue();

      long cancelledAt = System.nanoTime();
      ctx.cancel(new IllegalStateException("client went away"));
      Throwable failure = caller.get(10, TimeUnit.SECONDS);
      long micros = TimeUnit.NANOSECONDS.toMicros(System.nanoTime() - cancelledAt);
      System.out.printf(
          "HTTP cancel latency (%s): the caller got the cause %.1f ms after the cancel%n",
          Runtime.version(), micros / 1000.0);

      assertThat(failure)
          .isInstanceOf(CanceledException.class)
          .hasMessageContaining("client went away");
      // Generous bound (the aim is ~100 ms) so a loaded machine does not fail the build.
      assertThat(micros).isLessThan(1_000_000);
    }
    // The exchange was aborted, not just abandoned: the JDK closed the connection, which the
    // server notices once its handler returns.
    downstream.release();
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (downstream.connectionsClosed.get() == 0 && System.nanoTime() < end) {
      Thread.onSpinWait();
    }
    assertThat(downstream.connectionsClosed).hasValue(1);
    assertThat(onlyClientSpan().getStatus().getStatusCode()).isEqualTo(StatusCode.ERROR);
  }

  @Test
  void cancellingTheContext_failsTheAsyncCallWithTheCause() throws Exception {
    CompletableFuture<HttpResponse<String>> call;
    try (CancellableContext ctx = CancellableContext.withCancel(Context.root())) {
      try (Scope scope = ctx.makeCurrent()) {
        call = client.sendAsync(get("/slow"), BodyHandlers.ofString());
      }
      assertThat(downstream.slowEntered.await(10, TimeUnit.SECONDS)).isTrue();
      ctx.cancel();
      assertThat(failureOf(call)).isInstanceOf(CanceledException.class);
    }
  }

  @Test
  void expiredDeadline_sendsNothing() {
    try (CancellableContext ctx = deadlineIn(Duration.ofMillis(100));
        Scope scope = ctx.makeCurrent()) {
      clock.advanceWithoutFiring(Duration.ofMillis(100)); // passed; its timer has not fired yet
      assertThatThrownBy(() -> client.send(get("/ok"), BodyHandlers.ofString()))
          .isInstanceOf(DeadlineExceededException.class);
      CompletableFuture<HttpResponse<String>> async =
          client.sendAsync(get("/ok"), BodyHandlers.ofString());
      assertThat(async.isCancelled()).isTrue();
      assertThat(failureOf(async)).isInstanceOf(DeadlineExceededException.class);
    }
    assertThat(downstream.requests).hasValue(0);
    assertThat(exporter.getFinishedSpanItems()).isEmpty();
  }

  @Test
  void cancelledContext_sendsNothing() {
    try (CancellableContext ctx = CancellableContext.withCancel(Context.root())) {
      ctx.cancel();
      try (Scope scope = ctx.makeCurrent()) {
        assertThatThrownBy(() -> client.send(get("/ok"), BodyHandlers.ofString()))
            .isInstanceOf(CanceledException.class);
      }
    }
    assertThat(downstream.requests).hasValue(0);
  }

  @Test
  void serverError_marksTheClientSpanAsError() throws Exception {
    HttpResponse<String> response = client.send(get("/status/503"), BodyHandlers.ofString());
    assertThat(response.statusCode()).isEqualTo(503);
    SpanData span = onlyClientSpan();
    assertThat(span.getStatus().getStatusCode()).isEqualTo(StatusCode.ERROR);
    assertThat(span.getAttributes().get(ErrorAttributes.ERROR_TYPE)).isEqualTo("503");
  }

  @Test
  @EnabledForJreRange(min = JRE.JAVA_21)
  void closingTheDecorator_closesTheDecoratedClient() throws Exception {
    HttpClient own = HttpClient.newHttpClient();
    HttpClient decorated = ContextHttpClient.wrap(own);
    // Compiled for Java 17: HttpClient.close()/isTerminated() (JDK 21) are reached reflectively.
    HttpClient.class.getMethod("close").invoke(decorated);
    assertThat(HttpClient.class.getMethod("isTerminated").invoke(own)).isEqualTo(true);
  }

  @Test
  void badHeaderName_failsAtBuildTime() {
    assertThatThrownBy(() -> ContextHttpClient.builder(plain).setDeadlineHeader("X Bad\r\n"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("HTTP token");
  }

  @Test
  void urlFull_redactsUserInfoAndSignatures() {
    assertThat(
            UrlRedaction.redact(
                URI.create("https://bob:pw@example.com:8443/a?X-Goog-Signature=s&q=1#f")))
        .isEqualTo("https://REDACTED:REDACTED@example.com:8443/a?X-Goog-Signature=REDACTED&q=1#f");
    assertThat(UrlRedaction.redact(URI.create("http://example.com/a?q=1")))
        .isEqualTo("http://example.com/a?q=1");
  }

  /** The exception the future was completed with, as stored (JDK 23+ get() wraps it). */
  private static Throwable failureOf(CompletableFuture<?> future) {
    return future.handle((value, error) -> error).orTimeout(10, TimeUnit.SECONDS).join();
  }

  private HttpRequest get(String path) {
    return HttpRequest.newBuilder(downstream.uri(path)).build();
  }

  private CancellableContext deadlineIn(Duration d) {
    return CancellableContext.withDeadline(Context.root(), Deadline.after(d, clock));
  }

  private SpanData onlyClientSpan() {
    return exporter.getFinishedSpanItems().stream()
        .filter(s -> s.getKind() == SpanKind.CLIENT)
        .reduce(
            (a, b) -> {
              throw new AssertionError("more than one CLIENT span");
            })
        .orElseThrow(() -> new AssertionError("no CLIENT span"));
  }
}
