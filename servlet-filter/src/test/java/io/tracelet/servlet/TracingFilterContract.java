package io.tracelet.servlet;

import static org.assertj.core.api.Assertions.assertThat;

import io.opentelemetry.api.baggage.propagation.W3CBaggagePropagator;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.propagation.ContextPropagators;
import io.opentelemetry.context.propagation.TextMapPropagator;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.EventData;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import io.opentelemetry.semconv.ClientAttributes;
import io.opentelemetry.semconv.ErrorAttributes;
import io.opentelemetry.semconv.HttpAttributes;
import io.opentelemetry.semconv.ServerAttributes;
import io.opentelemetry.semconv.UrlAttributes;
import io.opentelemetry.semconv.UserAgentAttributes;
import io.tracelet.servlet.internal.server.ServerTracing;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The behaviour every container must show, run against each embedded container by a subclass. Each
 * request carries a unique {@code X-Request-ID}, so its span is found by that attribute.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class TracingFilterContract {

  static final String TRACE_ID = "0af7651916cd43dd8448eb211c80319c";
  static final String PARENT_ID = "b7ad6b7169203331";
  static final String TRACEPARENT = "00-" + TRACE_ID + "-" + PARENT_ID + "-01";
  private static final Pattern PRINTABLE = Pattern.compile("^[\\x21-\\x7E]+$");
  private static final Pattern HEX32 = Pattern.compile("[0-9a-f]{32}");
  private static final AtomicInteger ids = new AtomicInteger();

  final InMemorySpanExporter exporter = InMemorySpanExporter.create();
  final OpenTelemetrySdk otel =
      OpenTelemetrySdk.builder()
          .setTracerProvider(
              SdkTracerProvider.builder()
                  .addSpanProcessor(SimpleSpanProcessor.create(exporter))
                  .build())
          .setPropagators(
              ContextPropagators.create(
                  TextMapPropagator.composite(
                      W3CTraceContextPropagator.getInstance(), W3CBaggagePropagator.getInstance())))
          .build();
  private final List<TestServer> extraServers = new ArrayList<>();
  TestServer server;

  /**
   * Starts the container on 127.0.0.1, port 0, with the app and the filter under {@code config}.
   */
  abstract TestServer start(TracingConfig config) throws Exception;

  TracingConfig.Builder config() {
    return TracingConfig.builder()
        .openTelemetry(otel)
        .excludedPaths("/health")
        .responseTraceId(true)
        .responseServerTiming(true);
  }

  @BeforeAll
  void startDefault() throws Exception {
    server = start(config().build());
  }

  @AfterEach
  void stopExtra() throws Exception {
    for (TestServer s : extraServers) {
      s.close();
    }
    extraServers.clear();
    assertThat(Context.current()).isSameAs(Context.root());
  }

  @AfterAll
  void stopDefault() throws Exception {
    server.close();
    otel.close();
  }

  TestServer extra(TracingConfig config) throws Exception {
    TestServer s = start(config);
    extraServers.add(s);
    return s;
  }

  static String rid() {
    return "t-"
        + ids.incrementAndGet()
        + "-"
        + Long.toHexString(ThreadLocalRandom.current().nextLong());
  }

  RawHttp.Response get(String path, String... headers) throws Exception {
    return RawHttp.send(server.port(), "GET", path, headers);
  }

  List<SpanData> spans(String requestId) {
    List<SpanData> out = new ArrayList<>();
    for (SpanData s : exporter.getFinishedSpanItems()) {
      if (requestId.equals(s.getAttributes().get(ServerTracing.REQUEST_ID))) {
        out.add(s);
      }
    }
    return out;
  }

  /** Waits (bounded) for the span of {@code requestId}: it ends after the response may be sent. */
  SpanData awaitSpan(String requestId) throws InterruptedException {
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (System.nanoTime() < end) {
      List<SpanData> found = spans(requestId);
      if (!found.isEmpty()) {
        return found.get(0);
      }
      Thread.sleep(10);
    }
    throw new AssertionError("no span for request " + requestId);
  }

  // ---- IDs in and out -------------------------------------------------------------------------

  @Test
  void newRequest_getsGeneratedIds_echoedInResponse() throws Exception {
    RawHttp.Response r = get("/echo");
    assertThat(r.status()).isEqualTo(200);
    Map<String, String> echo = r.echo();
    String requestId = r.header("X-Request-ID");
    assertThat(requestId).matches(HEX32).isEqualTo(echo.get("requestId"));
    SpanData span = awaitSpan(requestId);
    assertThat(echo.get("traceId")).isEqualTo(span.getTraceId());
    assertThat(echo.get("spanId")).isEqualTo(span.getSpanId());
    assertThat(span.getParentSpanContext().isValid()).isFalse();
    String traceparent =
        "00-"
            + span.getTraceId()
            + "-"
            + span.getSpanId()
            + "-"
            + span.getSpanContext().getTraceFlags().asHex();
    assertThat(r.header("traceresponse")).isEqualTo(traceparent);
    assertThat(r.header("X-Trace-ID")).isEqualTo(span.getTraceId());
    assertThat(r.header("Server-Timing")).isEqualTo("traceparent;desc=\"" + traceparent + "\"");
  }

  @Test
  void incomingTraceparentAndRequestId_areUsed() throws Exception {
    String id = rid();
    RawHttp.Response r =
        get("/echo", "traceparent: " + TRACEPARENT, "tracestate: a=1,b=2", "X-Request-ID: " + id);
    assertThat(r.header("X-Request-ID")).isEqualTo(id);
    assertThat(r.echo()).containsEntry("requestId", id).containsEntry("traceId", TRACE_ID);
    SpanData span = awaitSpan(id);
    assertThat(span.getParentSpanContext().getSpanId()).isEqualTo(PARENT_ID);
    assertThat(span.getParentSpanContext().isRemote()).isTrue();
    assertThat(span.getSpanContext().getTraceState().asMap()).containsEntry("a", "1");
    assertThat(r.header("traceresponse")).startsWith("00-" + TRACE_ID + "-");
  }

  @Test
  void invalidTraceparent_startsNewTrace() throws Exception {
    String id = rid();
    get("/echo", "traceparent: 00-" + TRACE_ID + "-0000000000000000-01", "X-Request-ID: " + id);
    SpanData span = awaitSpan(id);
    assertThat(span.getTraceId()).isNotEqualTo(TRACE_ID);
    assertThat(span.getParentSpanContext().isValid()).isFalse();
  }

  @Test
  void repeatedTraceparent_startsNewTrace() throws Exception {
    String id = rid();
    get(
        "/echo",
        "traceparent: " + TRACEPARENT,
        "traceparent: 00-" + TRACE_ID + "-" + PARENT_ID + "-00",
        "X-Request-ID: " + id);
    SpanData span = awaitSpan(id);
    assertThat(span.getTraceId()).isNotEqualTo(TRACE_ID);
  }

  @Test
  void repeatedTracestate_isCombinedInOrder_andDuplicateKeyKeepsFirst() throws Exception {
    String id = rid();
    get(
        "/echo",
        "traceparent: " + TRACEPARENT,
        "tracestate: a=1, b=2",
        "tracestate: a=3,c=4",
        "X-Request-ID: " + id);
    SpanData span = awaitSpan(id);
    assertThat(span.getSpanContext().getTraceState().asMap())
        .containsExactlyInAnyOrderEntriesOf(Map.of("a", "1", "b", "2", "c", "4"));
  }

  @Test
  void headerNamesAnyCase_andWhitespaceAroundValues_areAccepted() throws Exception {
    String id = rid();
    RawHttp.Response r =
        get("/echo", "TraceParent:   " + TRACEPARENT + "  ", "x-REQUEST-id:\t" + id + " ");
    assertThat(r.echo()).containsEntry("traceId", TRACE_ID).containsEntry("requestId", id);
  }

  @Test
  void invalidRequestId_isReplaced_andEveryHeaderWeWriteIsPrintable() throws Exception {
    RawHttp.Response r = get("/echo", "X-Request-ID: bad id;<script>");
    String written = r.header("X-Request-ID");
    assertThat(written).matches(HEX32);
    for (String name : List.of("X-Request-ID", "traceresponse", "X-Trace-ID", "Server-Timing")) {
      assertThat(r.headers(name)).hasSize(1);
      assertThat(r.header(name)).matches(PRINTABLE);
    }
  }

  @Test
  void goTraceIdHeader_isHonouredOnlyWhenValidAndNoStandardContext() throws Exception {
    String goTrace = "4bf92f3577b34da6a3ce929d0e0e4736";
    String id1 = rid();
    get("/echo", "X-Trace-ID: " + goTrace, "X-Request-ID: " + id1);
    assertThat(awaitSpan(id1).getTraceId()).isEqualTo(goTrace);

    String id2 = rid();
    get("/echo", "X-Trace-ID: " + goTrace.toUpperCase(), "X-Request-ID: " + id2);
    assertThat(awaitSpan(id2).getTraceId()).isNotEqualTo(goTrace);

    String id3 = rid();
    get("/echo", "X-Trace-ID: " + goTrace, "traceparent: " + TRACEPARENT, "X-Request-ID: " + id3);
    assertThat(awaitSpan(id3).getTraceId()).isEqualTo(TRACE_ID);

    String id4 = rid();
    get("/echo", "X-Trace-ID: " + "0".repeat(32), "X-Request-ID: " + id4);
    assertThat(awaitSpan(id4).getTraceId()).isNotEqualTo("0".repeat(32));
  }

  @Test
  void untrustedIncoming_becomesLink_requestIdReplaced_deadlineIgnored() throws Exception {
    TestServer untrusted = extra(config().trustIncoming(false).build());
    RawHttp.Response r =
        RawHttp.send(
            untrusted.port(),
            "GET",
            "/echo",
            "traceparent: " + TRACEPARENT,
            "X-Request-ID: caller-id",
            "baggage: tenant=acme",
            "X-Request-Timeout-Ms: 1000");
    String id = r.header("X-Request-ID");
    assertThat(id).isNotEqualTo("caller-id").matches(HEX32);
    assertThat(r.echo())
        .containsEntry("deadlineMs", "none")
        .containsEntry("baggageSize", "0")
        .doesNotContainEntry("traceId", TRACE_ID);
    SpanData span = awaitSpan(id);
    assertThat(span.getParentSpanContext().isValid()).isFalse();
    assertThat(span.getLinks()).hasSize(1);
    assertThat(span.getLinks().get(0).getSpanContext().getTraceId()).isEqualTo(TRACE_ID);
    assertThat(span.getLinks().get(0).getSpanContext().getSpanId()).isEqualTo(PARENT_ID);
  }

  // ---- propagators ----------------------------------------------------------------------------

  @Test
  void b3AndJaeger_areReadWhenSelected() throws Exception {
    TestServer s = extra(config().propagators("tracecontext,baggage,b3,jaeger").build());
    String b3Trace = "463ac35c9f6413ad48485a3953bb6124";
    RawHttp.Response single =
        RawHttp.send(s.port(), "GET", "/echo", "b3: " + b3Trace + "-0020000000000001-1");
    assertThat(single.echo()).containsEntry("traceId", b3Trace);

    RawHttp.Response multi =
        RawHttp.send(
            s.port(),
            "GET",
            "/echo",
            "X-B3-TraceId: " + b3Trace,
            "X-B3-SpanId: 0020000000000002",
            "X-B3-Sampled: 1");
    assertThat(multi.echo()).containsEntry("traceId", b3Trace);

    String jaegerTrace = "00000000000000000000000000abcdef";
    RawHttp.Response jaeger =
        RawHttp.send(s.port(), "GET", "/echo", "uber-trace-id: abcdef:0020000000000003:0:1");
    assertThat(jaeger.echo()).containsEntry("traceId", jaegerTrace);

    RawHttp.Response w3cOnly = get("/echo", "b3: " + b3Trace + "-0020000000000001-1");
    assertThat(w3cOnly.echo()).doesNotContainEntry("traceId", b3Trace);
  }

  // ---- baggage --------------------------------------------------------------------------------

  @Test
  void baggage_withinLimits_isInContext() throws Exception {
    RawHttp.Response r = get("/echo", "baggage: tenant=acme", "baggage: user=42");
    assertThat(r.echo()).containsEntry("baggage", "{tenant=acme, user=42}");
  }

  @Test
  void baggage_overMemberLimit_isDroppedWhole() throws Exception {
    StringBuilder many = new StringBuilder();
    for (int i = 0; i < 65; i++) {
      many.append(i == 0 ? "" : ",").append("k").append(i).append("=v");
    }
    RawHttp.Response r = get("/echo", "baggage: " + many);
    assertThat(r.echo()).containsEntry("baggageSize", "0");
  }

  @Test
  void baggage_overByteLimitAcrossHeaders_isDroppedWhole() throws Exception {
    String half = "a=" + "x".repeat(4500);
    RawHttp.Response r = get("/echo", "baggage: " + half, "baggage: b=" + "y".repeat(4500));
    assertThat(r.status()).isEqualTo(200);
    assertThat(r.echo()).containsEntry("baggageSize", "0");
  }

  // ---- the server span ------------------------------------------------------------------------

  @Test
  void serverSpan_hasStableHttpAttributes_andRedactedQuery() throws Exception {
    String id = rid();
    get(
        "/echo?q=books&token=secret123&sig=abc",
        "User-Agent: tracelet-test/1",
        "X-Request-ID: " + id);
    SpanData span = awaitSpan(id);
    assertThat(span.getKind()).isEqualTo(SpanKind.SERVER);
    assertThat(span.getName()).isEqualTo("GET /echo");
    assertThat(span.getStatus().getStatusCode()).isEqualTo(StatusCode.UNSET);
    var a = span.getAttributes();
    assertThat(a.get(HttpAttributes.HTTP_REQUEST_METHOD)).isEqualTo("GET");
    assertThat(a.get(UrlAttributes.URL_PATH)).isEqualTo("/echo");
    assertThat(a.get(UrlAttributes.URL_QUERY)).isEqualTo("q=books&token=REDACTED&sig=REDACTED");
    assertThat(a.get(UrlAttributes.URL_SCHEME)).isEqualTo("http");
    assertThat(a.get(ServerAttributes.SERVER_ADDRESS)).isEqualTo("127.0.0.1");
    assertThat(a.get(ServerAttributes.SERVER_PORT)).isEqualTo((long) server.port());
    assertThat(a.get(ClientAttributes.CLIENT_ADDRESS)).isEqualTo("127.0.0.1");
    assertThat(a.get(UserAgentAttributes.USER_AGENT_ORIGINAL)).isEqualTo("tracelet-test/1");
    assertThat(a.get(HttpAttributes.HTTP_RESPONSE_STATUS_CODE)).isEqualTo(200L);
    assertThat(a.get(HttpAttributes.HTTP_ROUTE)).isEqualTo("/echo");
    assertThat(a.get(ErrorAttributes.ERROR_TYPE)).isNull();
  }

  @Test
  void pathMapping_namesSpanByPattern_neverByRawPath() throws Exception {
    String id = rid();
    get("/items/42", "X-Request-ID: " + id);
    SpanData span = awaitSpan(id);
    assertThat(span.getName()).isEqualTo("GET /items/*");
    assertThat(span.getAttributes().get(UrlAttributes.URL_PATH)).isEqualTo("/items/42");
  }

  @Test
  void routeSetByApplication_namesSpan() throws Exception {
    String id = rid();
    get("/routed", "X-Request-ID: " + id);
    SpanData span = awaitSpan(id);
    assertThat(span.getName()).isEqualTo("GET /things/{id}");
    assertThat(span.getAttributes().get(HttpAttributes.HTTP_ROUTE)).isEqualTo("/things/{id}");
  }

  @Test
  void unknownMethod_isOther() throws Exception {
    String id = rid();
    RawHttp.Response r = RawHttp.send(server.port(), "FOO", "/echo", "X-Request-ID: " + id);
    assertThat(r.status()).isEqualTo(501);
    SpanData span = awaitSpan(id);
    assertThat(span.getName()).isEqualTo("HTTP /echo");
    assertThat(span.getAttributes().get(HttpAttributes.HTTP_REQUEST_METHOD)).isEqualTo("_OTHER");
    assertThat(span.getAttributes().get(HttpAttributes.HTTP_REQUEST_METHOD_ORIGINAL))
        .isEqualTo("FOO");
  }

  @Test
  void applicationException_isRecordedAsError_andRethrownUnchanged() throws Exception {
    String id = rid();
    RawHttp.Response r = get("/fail", "X-Request-ID: " + id);
    assertThat(r.status()).isEqualTo(500);
    assertThat(r.header("X-Request-ID")).isEqualTo(id);
    SpanData span = awaitSpan(id);
    assertThat(span.getStatus().getStatusCode()).isEqualTo(StatusCode.ERROR);
    assertThat(span.getAttributes().get(ErrorAttributes.ERROR_TYPE))
        .isEqualTo("java.lang.IllegalStateException");
    assertThat(span.getAttributes().get(HttpAttributes.HTTP_RESPONSE_STATUS_CODE)).isEqualTo(500L);
    assertThat(span.getEvents()).extracting(EventData::getName).contains("exception");
  }

  @Test
  void status5xx_isError() throws Exception {
    String id = rid();
    get("/error500", "X-Request-ID: " + id);
    SpanData span = awaitSpan(id);
    assertThat(span.getStatus().getStatusCode()).isEqualTo(StatusCode.ERROR);
    assertThat(span.getAttributes().get(ErrorAttributes.ERROR_TYPE)).isEqualTo("500");
  }

  @Test
  void exceptionAfterCommit_keepsCommittedStatus_andIsRecorded() throws Exception {
    String id = rid();
    RawHttp.Response r = get("/commit-then-fail", "X-Request-ID: " + id);
    assertThat(r.status()).isEqualTo(200);
    assertThat(r.body()).startsWith("partial");
    assertThat(r.headers("X-Request-ID")).containsExactly(id);
    SpanData span = awaitSpan(id);
    assertThat(span.getStatus().getStatusCode()).isEqualTo(StatusCode.ERROR);
    assertThat(span.getAttributes().get(HttpAttributes.HTTP_RESPONSE_STATUS_CODE)).isEqualTo(200L);
  }

  @Test
  void excludedPath_hasNoSpan_butRequestIdIsSetAndEchoed() throws Exception {
    String id = rid();
    RawHttp.Response r = get("/health", "X-Request-ID: " + id);
    assertThat(r.header("X-Request-ID")).isEqualTo(id);
    assertThat(r.echo()).containsEntry("requestId", id);
    assertThat(r.header("traceresponse")).isNull();
    // A later request's span is exported after this one ended: then none for /health exists.
    String later = rid();
    get("/echo", "X-Request-ID: " + later);
    awaitSpan(later);
    assertThat(spans(id)).isEmpty();
  }

  // ---- deadlines ------------------------------------------------------------------------------

  @Test
  void incomingDeadlinePassing_answers504() throws Exception {
    String id = rid();
    RawHttp.Response r = get("/wait-deadline", "X-Request-Timeout-Ms: 100", "X-Request-ID: " + id);
    assertThat(r.status()).isEqualTo(504);
    assertThat(r.header("X-Request-ID")).isEqualTo(id);
    SpanData span = awaitSpan(id);
    assertThat(span.getAttributes().get(HttpAttributes.HTTP_RESPONSE_STATUS_CODE)).isEqualTo(504L);
    assertThat(span.getStatus().getStatusCode()).isEqualTo(StatusCode.ERROR);
    assertThat(span.getAttributes().get(ErrorAttributes.ERROR_TYPE))
        .isEqualTo("io.tracelet.DeadlineExceededException");
  }

  @Test
  void configuredRequestTimeout_answers504() throws Exception {
    TestServer s = extra(config().requestTimeout(Duration.ofMillis(100)).build());
    RawHttp.Response r = RawHttp.send(s.port(), "GET", "/wait-deadline");
    assertThat(r.status()).isEqualTo(504);
  }

  @Test
  void incomingDeadline_isClampedToMaximum() throws Exception {
    RawHttp.Response r = get("/echo", "X-Request-Timeout-Ms: 999999999");
    assertThat(Long.parseLong(r.echo().get("deadlineMs"))).isBetween(1L, 30_000L);
    RawHttp.Response none = get("/echo", "X-Request-Timeout-Ms: soon");
    assertThat(none.echo()).containsEntry("deadlineMs", "none");
  }

  @Test
  void envoyExpectedTimeout_asDeadlineHeader_givesTheRequestThatDeadline() throws Exception {
    TestServer s = extra(config().deadlineHeader("x-envoy-expected-rq-timeout-ms").build());
    RawHttp.Response r =
        RawHttp.send(s.port(), "GET", "/echo", "x-envoy-expected-rq-timeout-ms: 250");
    assertThat(Long.parseLong(r.echo().get("deadlineMs"))).isLessThanOrEqualTo(250L);
    // The default header is no longer read once another one is configured.
    RawHttp.Response other = RawHttp.send(s.port(), "GET", "/echo", "X-Request-Timeout-Ms: 250");
    assertThat(other.echo()).containsEntry("deadlineMs", "none");
  }

  @Test
  void grpcTimeout_asDeadlineHeader_isReadInTheGrpcSyntax_andClamped() throws Exception {
    TestServer s =
        extra(
            config()
                .deadlineHeader("grpc-timeout")
                .maxIncomingTimeout(Duration.ofSeconds(2))
                .build());
    RawHttp.Response r = RawHttp.send(s.port(), "GET", "/echo", "grpc-timeout: 100m");
    assertThat(Long.parseLong(r.echo().get("deadlineMs"))).isLessThanOrEqualTo(100L);
    RawHttp.Response capped = RawHttp.send(s.port(), "GET", "/echo", "Grpc-Timeout: 5S");
    assertThat(Long.parseLong(capped.echo().get("deadlineMs"))).isLessThanOrEqualTo(2_000L);
    for (String malformed : new String[] {"100", "1x", "-5m", "123456789m", "5 S", "5s", ""}) {
      RawHttp.Response none = RawHttp.send(s.port(), "GET", "/echo", "grpc-timeout: " + malformed);
      assertThat(none.echo()).as(malformed).containsEntry("deadlineMs", "none");
    }
  }

  // ---- concurrency ----------------------------------------------------------------------------

  @Test
  void concurrentRequests_neverSeeEachOthersIds() throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(8);
    try {
      List<Future<Boolean>> results = new ArrayList<>();
      for (int i = 0; i < 64; i++) {
        results.add(
            pool.submit(
                () -> {
                  String id = rid();
                  String trace =
                      String.format(
                          "%032x", ThreadLocalRandom.current().nextLong(1, Long.MAX_VALUE));
                  RawHttp.Response r =
                      get(
                          "/echo",
                          "X-Request-ID: " + id,
                          "traceparent: 00-" + trace + "-" + PARENT_ID + "-01");
                  Map<String, String> echo = r.echo();
                  return id.equals(echo.get("requestId"))
                      && trace.equals(echo.get("traceId"))
                      && id.equals(r.header("X-Request-ID"));
                }));
      }
      for (Future<Boolean> f : results) {
        assertThat(f.get(30, TimeUnit.SECONDS)).isTrue();
      }
    } finally {
      pool.shutdownNow();
    }
  }

  // ---- async ----------------------------------------------------------------------------------

  @Test
  void asyncStartRunnable_runsInRequestContext_andSpanEndsOnce() throws Exception {
    String id = rid();
    RawHttp.Response r = get("/async-start", "traceparent: " + TRACEPARENT, "X-Request-ID: " + id);
    assertThat(r.status()).isEqualTo(200);
    assertThat(r.echo()).containsEntry("requestId", id).containsEntry("traceId", TRACE_ID);
    SpanData span = awaitSpan(id);
    assertThat(r.echo()).containsEntry("spanId", span.getSpanId());
    assertThat(span.getAttributes().get(HttpAttributes.HTTP_RESPONSE_STATUS_CODE)).isEqualTo(200L);
    assertSingleSpanAfterNextRequest(id);
  }

  @Test
  void asyncDispatch_keepsContext_andSpanEndsOnce() throws Exception {
    String id = rid();
    RawHttp.Response r = get("/async-dispatch", "X-Request-ID: " + id);
    assertThat(r.status()).isEqualTo(200);
    SpanData span = awaitSpan(id);
    assertThat(r.echo()).containsEntry("requestId", id).containsEntry("spanId", span.getSpanId());
    assertSingleSpanAfterNextRequest(id);
  }

  @Test
  void asyncTimeout_endsSpanOnceAsError() throws Exception {
    String id = rid();
    RawHttp.Response r = get("/async-timeout", "X-Request-ID: " + id);
    assertThat(r.status()).isGreaterThanOrEqualTo(500);
    SpanData span = awaitSpan(id);
    assertThat(span.getStatus().getStatusCode()).isEqualTo(StatusCode.ERROR);
    assertThat(span.getAttributes().get(ErrorAttributes.ERROR_TYPE)).isEqualTo("timeout");
    assertSingleSpanAfterNextRequest(id);
  }

  private void assertSingleSpanAfterNextRequest(String id) throws Exception {
    String later = rid();
    get("/echo", "X-Request-ID: " + later);
    awaitSpan(later);
    assertThat(spans(id)).hasSize(1);
  }

  // ---- context hygiene ------------------------------------------------------------------------

  @Test
  void leakedThreadContext_isNotTrusted_countedAndRestored() throws Exception {
    long before = server.filter().leakedContextCount();
    int restoredBefore = server.leakyFilter().restored.get();
    RawHttp.Response r = get("/leak");
    assertThat(r.echo()).containsEntry("leak", "none");
    assertThat(r.echo().get("requestId")).isNotEmpty();
    assertThat(server.filter().leakedContextCount()).isEqualTo(before + 1);
    // The leaky filter checks after the response may already have reached us: wait for it.
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (server.leakyFilter().restored.get() == restoredBefore && System.nanoTime() < end) {
      Thread.sleep(10);
    }
    assertThat(server.leakyFilter().restored.get()).isEqualTo(restoredBefore + 1);
    assertThat(server.leakyFilter().notRestored.get()).isZero();
  }

  @Test
  void cleanThread_isNotCountedAsLeak() throws Exception {
    long before = server.filter().leakedContextCount();
    get("/echo");
    assertThat(server.filter().leakedContextCount()).isEqualTo(before);
  }

  static AttributeKey<String> requestIdKey() {
    return ServerTracing.REQUEST_ID;
  }
}
