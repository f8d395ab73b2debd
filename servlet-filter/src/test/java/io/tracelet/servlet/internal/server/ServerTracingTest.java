package io.tracelet.servlet.internal.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.TraceFlags;
import io.opentelemetry.api.trace.TraceState;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.Context;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.semconv.ErrorAttributes;
import io.opentelemetry.semconv.HttpAttributes;
import io.tracelet.CanceledException;
import io.tracelet.Cancellation;
import io.tracelet.DeadlineExceededException;
import io.tracelet.RequestId;
import io.tracelet.servlet.TestSdks;
import io.tracelet.servlet.TracingConfig;
import io.tracelet.servlet.internal.propagation.TestHeaders;
import io.tracelet.servlet.internal.server.Exchange.FailureKind;
import io.tracelet.servlet.internal.settings.Settings;
import java.io.IOException;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The request core without a container. */
class ServerTracingTest {

  static final String TRACE_ID = "0af7651916cd43dd8448eb211c80319c";
  static final String TP = "00-" + TRACE_ID + "-b7ad6b7169203331-01";

  final InMemorySpanExporter exporter = InMemorySpanExporter.create();
  final OpenTelemetrySdk otel = TestSdks.recordingInto(exporter);

  @AfterEach
  void close() {
    otel.close();
  }

  ServerTracing core(TracingConfig.Builder config) {
    Settings s = Settings.resolve(config.build(), k -> null, k -> null, k -> null);
    return new ServerTracing(s, otel, W3CTraceContextPropagator.getInstance());
  }

  @Test
  void trustedRequest_usesIncomingParentRequestIdAndDeadline() {
    ServerTracing exCore = core(TracingConfig.builder());
    Exchange ex =
        exCore.start(
            RequestInfo.get("/a")
                .with(
                    TestHeaders.of(
                        "traceparent", TP, "x-request-id", "abc", "X-Request-Timeout-Ms", "60000")),
            null);
    assertThat(Span.fromContext(ex.context()).getSpanContext().getTraceId()).isEqualTo(TRACE_ID);
    assertThat(RequestId.fromContext(ex.context()).value()).isEqualTo("abc");
    Cancellation c = Cancellation.fromContext(ex.context());
    assertThat(c.remainingNanos()).isLessThanOrEqualTo(Duration.ofSeconds(30).toNanos());
    assertThat(exCore.end(ex, 200, null, true, null)).isTrue();
    assertThat(exCore.end(ex, 200, null, true, null)).isFalse();
    assertThat(exporter.getFinishedSpanItems()).hasSize(1);
    assertThat(c.isCancelled()).isTrue();
  }

  @Test
  void configuredTimeout_andShorterIncomingDeadline_theEarlierWins() {
    ServerTracing exCore = core(TracingConfig.builder().requestTimeout(Duration.ofSeconds(10)));
    Exchange ex =
        exCore.start(
            RequestInfo.get("/a").with(TestHeaders.of("X-Request-Timeout-Ms", "2000")), null);
    assertThat(Cancellation.fromContext(ex.context()).remainingNanos())
        .isLessThanOrEqualTo(Duration.ofSeconds(2).toNanos());
    exCore.end(ex, 200, null, true, null);
  }

  @Test
  void grpcTimeoutHeader_subMillisecondIsNotRoundedUp() {
    ServerTracing exCore = core(TracingConfig.builder().deadlineHeader("Grpc-Timeout"));
    Exchange ex =
        exCore.start(RequestInfo.get("/a").with(TestHeaders.of("grpc-timeout", "500u")), null);
    Cancellation c = Cancellation.fromContext(ex.context());
    assertThat(c.hasDeadline()).isTrue();
    assertThat(c.remainingNanos()).isLessThanOrEqualTo(500_000L);
    exCore.end(ex, 200, null, true, null);
  }

  @Test
  void grpcTimeoutHeader_zeroStartsTheRequestCancelled() {
    ServerTracing exCore = core(TracingConfig.builder().deadlineHeader("grpc-timeout"));
    Exchange ex =
        exCore.start(RequestInfo.get("/a").with(TestHeaders.of("grpc-timeout", "0m")), null);
    assertThat(Cancellation.fromContext(ex.context()).isCancelled()).isTrue();
    exCore.end(ex, 200, null, true, null);
  }

  @Test
  void grpcTimeoutHeader_isIgnoredWhenUntrusted() {
    ServerTracing exCore =
        core(TracingConfig.builder().deadlineHeader("grpc-timeout").trustIncoming(false));
    Exchange ex =
        exCore.start(RequestInfo.get("/a").with(TestHeaders.of("grpc-timeout", "100m")), null);
    assertThat(Cancellation.fromContext(ex.context()).hasDeadline()).isFalse();
    exCore.end(ex, 200, null, true, null);
  }

  @Test
  void otherDeadlineHeaders_keepTheMillisecondSyntax() {
    ServerTracing exCore =
        core(TracingConfig.builder().deadlineHeader("x-envoy-expected-rq-timeout-ms"));
    Exchange ex =
        exCore.start(
            RequestInfo.get("/a").with(TestHeaders.of("x-envoy-expected-rq-timeout-ms", "100m")),
            null);
    assertThat(Cancellation.fromContext(ex.context()).hasDeadline()).isFalse();
    exCore.end(ex, 200, null, true, null);
  }

  @Test
  void untrustedRequest_linksIncomingTrace_andGeneratesRequestId() {
    ServerTracing exCore = core(TracingConfig.builder().trustIncoming(false));
    Exchange ex =
        exCore.start(
            RequestInfo.get("/a")
                .with(
                    TestHeaders.of(
                        "traceparent", TP, "X-Request-ID", "abc", "X-Request-Timeout-Ms", "5")),
            null);
    assertThat(RequestId.fromContext(ex.context()).value()).isNotEqualTo("abc");
    assertThat(Cancellation.fromContext(ex.context()).hasDeadline()).isFalse();
    exCore.end(ex, 200, null, true, null);
    SpanData span = exporter.getFinishedSpanItems().get(0);
    assertThat(span.getTraceId()).isNotEqualTo(TRACE_ID);
    assertThat(span.getLinks())
        .singleElement()
        .satisfies(l -> assertThat(l.getSpanContext().getTraceId()).isEqualTo(TRACE_ID));
  }

  @Test
  void goTraceId_becomesRemoteParentWithGeneratedSpanId() {
    String go = "4bf92f3577b34da6a3ce929d0e0e4736";
    ServerTracing exCore = core(TracingConfig.builder());
    Exchange ex = exCore.start(RequestInfo.get("/a").with(TestHeaders.of("X-Trace-ID", go)), null);
    exCore.end(ex, 200, null, true, null);
    SpanData span = exporter.getFinishedSpanItems().get(0);
    assertThat(span.getTraceId()).isEqualTo(go);
    assertThat(span.getParentSpanContext().isRemote()).isTrue();
    assertThat(span.getParentSpanContext().getSpanId()).hasSize(16).isNotEqualTo("0".repeat(16));
    assertThat(ServerTracing.fromTraceIdHeader("4BF92F3577B34DA6A3CE929D0E0E4736").isValid())
        .isFalse();
    assertThat(ServerTracing.fromTraceIdHeader(go + "0").isValid()).isFalse();
  }

  @Test
  void excludedPath_hasNoSpan_butRequestIdAndHeader() {
    ServerTracing exCore = core(TracingConfig.builder().excludedPaths("/health"));
    Exchange ex = exCore.start(RequestInfo.get("/health").with(TestHeaders.of()), null);
    assertThat(ex.span().getSpanContext().isValid()).isFalse();
    assertThat(ResponseHeaders.of(exCore, ex).list())
        .extracting(Map.Entry::getKey)
        .containsExactly("X-Request-ID");
    exCore.end(ex, 200, null, true, null);
    assertThat(exporter.getFinishedSpanItems()).isEmpty();
  }

  @Test
  void responseHeaders_followToggles() {
    ServerTracing exCore =
        core(
            TracingConfig.builder()
                .responseRequestId(false)
                .responseTraceResponse(false)
                .responseTraceId(true)
                .responseServerTiming(true));
    Exchange ex = exCore.start(RequestInfo.get("/a").with(TestHeaders.of()), null);
    assertThat(ResponseHeaders.of(exCore, ex).list())
        .extracting(Map.Entry::getKey)
        .containsExactly("X-Trace-ID", "Server-Timing");
    exCore.end(ex, 200, null, true, null);
  }

  @Test
  void uncommittedException_isRecordedAs500Error_andAppRouteRenamesSpan() {
    ServerTracing exCore = core(TracingConfig.builder());
    Exchange ex = exCore.start(RequestInfo.get("/a").with(TestHeaders.of()), null);
    exCore.end(ex, 200, new IllegalArgumentException("x"), false, "/things/{id}");
    SpanData span = exporter.getFinishedSpanItems().get(0);
    assertThat(span.getName()).isEqualTo("GET /things/{id}");
    assertThat(span.getStatus().getStatusCode()).isEqualTo(StatusCode.ERROR);
    assertThat(span.getAttributes().get(HttpAttributes.HTTP_RESPONSE_STATUS_CODE)).isEqualTo(500L);
    assertThat(span.getAttributes().get(ErrorAttributes.ERROR_TYPE))
        .isEqualTo("java.lang.IllegalArgumentException");
  }

  @Test
  void failures_areClassified() {
    ServerTracing core = core(TracingConfig.builder().requestTimeout(Duration.ofMillis(1)));
    Exchange timedOut = core.start(RequestInfo.get("/a").with(TestHeaders.of()), null);
    // The 1 ms timer fires on the timer thread; wait for it through the context itself.
    assertThat(awaitDone(timedOut)).isInstanceOf(DeadlineExceededException.class);
    Throwable thrown = new RuntimeException(Cancellation.fromContext(timedOut.context()).cause());
    assertThat(timedOut.classify(thrown)).isEqualTo(FailureKind.DEADLINE_EXCEEDED);
    assertThat(timedOut.classify(new IllegalStateException())).isEqualTo(FailureKind.APPLICATION);
    core.end(timedOut, 504, thrown, false, null);

    ServerTracing goneCore = core(TracingConfig.builder());
    Exchange gone = goneCore.start(RequestInfo.get("/a").with(TestHeaders.of()), null);
    gone.clientDisconnected();
    Throwable cause = Cancellation.fromContext(gone.context()).cause();
    assertThat(cause).isInstanceOf(CanceledException.class);
    assertThat(cause.getCause()).isInstanceOf(IOException.class);
    assertThat(gone.classify(cause)).isEqualTo(FailureKind.CLIENT_GONE);
    goneCore.end(gone, 200, null, false, null);
    SpanData span = exporter.getFinishedSpanItems().get(1);
    assertThat(span.getStatus().getStatusCode()).isEqualTo(StatusCode.UNSET);
    assertThat(span.getEvents()).extracting(e -> e.getName()).contains("client disconnected");
    assertThat(Context.current()).isSameAs(Context.root());
  }

  private static Throwable awaitDone(Exchange ex) {
    try {
      Cancellation c = Cancellation.fromContext(ex.context());
      assertThat(c.await(Duration.ofSeconds(10))).isTrue();
      return c.cause();
    } catch (InterruptedException e) {
      throw new AssertionError(e);
    }
  }

  @Test
  void outerInstrumentationsLiveSpan_isJoined_noSecondServerSpan() {
    Span outer = otel.getTracer("outer").spanBuilder("GET /*").startSpan();
    Context entry = Context.root().with(outer);
    assertThat(ServerTracing.isOuterRequestContext(entry)).isTrue();

    ServerTracing exCore = core(TracingConfig.builder());
    Exchange ex =
        exCore.start(
            RequestInfo.get("/a")
                .with(
                    TestHeaders.of(
                        "traceparent", TP, "x-request-id", "abc", "X-Request-Timeout-Ms", "2000")),
            entry);
    assertThat(Span.fromContext(ex.context())).isSameAs(outer);
    assertThat(RequestId.fromContext(ex.context()).value()).isEqualTo("abc");
    Cancellation c = Cancellation.fromContext(ex.context());
    assertThat(c.hasDeadline()).isTrue();
    assertThat(ResponseHeaders.of(exCore, ex).list())
        .contains(
            Map.entry(
                "traceresponse",
                "00-"
                    + outer.getSpanContext().getTraceId()
                    + "-"
                    + outer.getSpanContext().getSpanId()
                    + "-"
                    + outer.getSpanContext().getTraceFlags().asHex()));
    assertThat(exCore.end(ex, 500, new IllegalStateException("x"), false, "/b")).isTrue();
    assertThat(c.isCancelled()).isTrue();
    assertThat(exporter.getFinishedSpanItems())
        .as("the outer span is its owner's to end")
        .isEmpty();

    outer.end();
    SpanData data = exporter.getFinishedSpanItems().get(0);
    assertThat(data.getAttributes().get(ServerTracing.REQUEST_ID)).isEqualTo("abc");
    assertThat(data.getStatus().getStatusCode()).isEqualTo(StatusCode.UNSET);
    assertThat(data.getName()).isEqualTo("GET /*");
  }

  @Test
  void leftBehindContexts_areNotJoined() {
    Span ended = otel.getTracer("earlier").spanBuilder("earlier").startSpan();
    ended.end();
    Span live = otel.getTracer("earlier").spanBuilder("live").startSpan();
    try {
      assertThat(ServerTracing.isOuterRequestContext(Context.root())).isFalse();
      assertThat(ServerTracing.isOuterRequestContext(Context.root().with(ended)))
          .as("a span of a request that finished")
          .isFalse();
      assertThat(
              ServerTracing.isOuterRequestContext(
                  RequestId.of("earlier").storeInContext(Context.root().with(live))))
          .as("made inside one of our requests: only an unclosed scope brings it here")
          .isFalse();
      assertThat(
              ServerTracing.isOuterRequestContext(
                  Context.root()
                      .with(
                          Span.wrap(
                              io.opentelemetry.api.trace.SpanContext.createFromRemoteParent(
                                  TRACE_ID,
                                  "b7ad6b7169203331",
                                  io.opentelemetry.api.trace.TraceFlags.getSampled(),
                                  io.opentelemetry.api.trace.TraceState.getDefault())))))
          .as("only extracted from headers")
          .isFalse();
      Context unsampled =
          Context.root()
              .with(
                  Span.wrap(
                      io.opentelemetry.api.trace.SpanContext.create(
                          TRACE_ID,
                          "b7ad6b7169203331",
                          io.opentelemetry.api.trace.TraceFlags.getDefault(),
                          io.opentelemetry.api.trace.TraceState.getDefault())));
      assertThat(ServerTracing.isOuterRequestContext(unsampled, true))
          .as("an outer request that was not sampled, under the Java agent")
          .isTrue();
      assertThat(ServerTracing.isOuterRequestContext(unsampled, false))
          .as("a non-recording span without the agent: it cannot be told from a leaked one")
          .isFalse();
    } finally {
      live.end();
    }
  }

  @Test
  void noopTracer_unsampledParent_keepsTraceFlagsAndState_withAFreshSpanId() {
    SpanContext parent =
        SpanContext.createFromRemoteParent(
            TRACE_ID,
            "b7ad6b7169203331",
            TraceFlags.getDefault(),
            TraceState.builder().put("vendor", "x").build());
    Span noop =
        OpenTelemetry.noop()
            .getTracer("t")
            .spanBuilder("s")
            .setParent(Context.root().with(Span.wrap(parent)))
            .startSpan();
    assertThat(noop.getSpanContext()).as("what OpenTelemetry's no-op gives").isEqualTo(parent);

    SpanContext own = ServerTracing.withOwnIds(noop, parent).getSpanContext();
    assertThat(own.isValid()).isTrue();
    assertThat(own.isRemote()).isFalse();
    assertThat(own.getTraceId()).isEqualTo(TRACE_ID);
    assertThat(own.getSpanId()).isNotEqualTo(parent.getSpanId());
    assertThat(own.isSampled()).isFalse();
    assertThat(own.getTraceState()).isEqualTo(parent.getTraceState());
  }

  @Test
  void sdkSpan_isKeptAsItIs() {
    Span span = otel.getTracer("t").spanBuilder("s").startSpan();
    assertThat(ServerTracing.withOwnIds(span, SpanContext.getInvalid())).isSameAs(span);
    span.end();
    assertThat(ServerTracing.isNoop(otel)).isFalse();
    assertThat(ServerTracing.isNoop(OpenTelemetry.noop())).isTrue();
    assertThat(ServerTracing.isNoop(OpenTelemetrySdk.builder().build()))
        .as("an SDK with no span processor hands out the no-op tracer")
        .isTrue();
  }
}
