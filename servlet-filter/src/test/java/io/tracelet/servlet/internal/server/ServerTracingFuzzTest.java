package io.tracelet.servlet.internal.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.opentelemetry.api.baggage.Baggage;
import io.opentelemetry.api.baggage.BaggageEntry;
import io.opentelemetry.api.baggage.propagation.W3CBaggagePropagator;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.SpanId;
import io.opentelemetry.api.trace.TraceId;
import io.opentelemetry.api.trace.TraceState;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.propagation.TextMapPropagator;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.trace.ReadableSpan;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.LinkData;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import io.opentelemetry.sdk.trace.export.SpanExporter;
import io.tracelet.Cancellation;
import io.tracelet.RequestId;
import io.tracelet.servlet.OutboundPropagator;
import io.tracelet.servlet.TracingConfig;
import io.tracelet.servlet.internal.propagation.FuzzHeaders;
import io.tracelet.servlet.internal.propagation.IncomingGetter;
import io.tracelet.servlet.internal.propagation.Level2TraceState;
import io.tracelet.servlet.internal.propagation.TraceStateCodec;
import io.tracelet.servlet.internal.settings.Settings;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.logging.Level;
import java.util.logging.Logger;
import java.util.regex.Pattern;

/**
 * Fuzzes the real request path: {@link ServerTracing#begin} with the headers decoded by {@link
 * FuzzHeaders}, through the propagators the filter builds from its {@code propagators} setting, and
 * the extract → inject round trip through {@link OutboundPropagator}. Each input may pick a
 * configuration with a {@code @config=} line (see {@link #CONFIGS}).
 *
 * <p>Without {@code JAZZER_FUZZ} these run the seeds under {@code ServerTracingFuzzTestInputs/} as
 * regression tests; docs/fuzzing.md has the long-mode command.
 */
class ServerTracingFuzzTest {

  private static final Pattern VISIBLE_ASCII = Pattern.compile("[\\x21-\\x7E]+");
  private static final Pattern REQUEST_ID = Pattern.compile("[A-Za-z0-9+/=._@:-]{1,200}");
  private static final Pattern GENERATED_ID = Pattern.compile("[0-9a-f]{32}");
  private static final Pattern TRACE_ID_HEADER = Pattern.compile("[ \\t]*([0-9a-f]{32})[ \\t]*");
  private static final Pattern DEADLINE = Pattern.compile("[ \\t]*([0-9]{1,9})[ \\t]*");
  // W3C Trace Context: version 00 is exactly 55 characters; a later version (not ff) may add
  // fields after a dash. IDs are lowercase hex and not all zeros.
  private static final Pattern TRACEPARENT =
      Pattern.compile(
          "(?:00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})"
              + "|(?:0[1-9a-f]|[1-9a-e][0-9a-f]|f[0-9a-e])-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})"
              + "(?:-.*)?)",
          Pattern.DOTALL);
  private static final String ZERO_TRACE = TraceId.getInvalid();
  private static final String ZERO_SPAN = SpanId.getInvalid();

  private static final RequestInfo INFO =
      new RequestInfo("GET", "/fuzz", "/fuzz", null, "http", "localhost", 8080, "127.0.0.1", null);

  // A provider without span processors hands out invalid no-op spans, so the spans are exported,
  // to nowhere: keeping them would grow the heap over millions of fuzzing runs.
  private static final OpenTelemetrySdk OTEL =
      OpenTelemetrySdk.builder()
          .setTracerProvider(
              SdkTracerProvider.builder()
                  .addSpanProcessor(SimpleSpanProcessor.create(new DiscardingExporter()))
                  .build())
          .build();

  private static final class DiscardingExporter implements SpanExporter {
    @Override
    public CompletableResultCode export(Collection<SpanData> spans) {
      return CompletableResultCode.ofSuccess();
    }

    @Override
    public CompletableResultCode flush() {
      return CompletableResultCode.ofSuccess();
    }

    @Override
    public CompletableResultCode shutdown() {
      return CompletableResultCode.ofSuccess();
    }
  }

  // OpenTelemetry's baggage parser logs a warning with a stack trace for every bad percent-escape;
  // in long mode that would be most of the run's time and gigabytes of log. It stays on in
  // regression mode, where other tests of this JVM may count those lines. Held so it is not GC'd.
  private static final Logger BAGGAGE_PARSER_LOG =
      Logger.getLogger("io.opentelemetry.api.baggage.propagation.Parser");

  static {
    if (System.getenv("JAZZER_FUZZ") != null && !System.getenv("JAZZER_FUZZ").isEmpty()) {
      BAGGAGE_PARSER_LOG.setLevel(Level.OFF);
    }
  }

  /** One filter configuration: its core and the incoming propagator it was built with. */
  private record Fixture(
      ServerTracing core, TextMapPropagator propagator, boolean w3cOnly, boolean baggage) {}

  /**
   * The configurations an input can pick with {@code @config=NAME}; anything else is {@code
   * default}. Every optional response header is on so that each is checked.
   */
  private static final Map<String, Fixture> CONFIGS = new LinkedHashMap<>();

  static {
    CONFIGS.put("default", fixture(config("tracecontext,baggage"), true, true));
    CONFIGS.put("b3", fixture(config("tracecontext,baggage,b3"), false, true));
    CONFIGS.put("b3multi", fixture(config("b3multi,tracecontext,baggage"), false, true));
    // ottrace sends only the lower 64 bits of the trace ID, and the last propagator to find a
    // context wins: listed last, it would turn every 128-bit trace into a 64-bit one at the next
    // hop. So it comes first here, as docs/fuzzing.md advises.
    CONFIGS.put("all", fixture(config("ottrace,jaeger,b3multi,tracecontext,baggage"), false, true));
    CONFIGS.put(
        "untrusted", fixture(config("tracecontext,baggage").trustIncoming(false), true, true));
    CONFIGS.put(
        "custom",
        fixture(
            config("tracecontext")
                .requestIdHeader("X-Correlation-ID")
                .deadlineHeader("Grpc-Timeout-Ms")
                .maxIncomingTimeout(Duration.ofSeconds(10))
                .requestTimeout(Duration.ofSeconds(20)),
            true,
            false));
  }

  private static TracingConfig.Builder config(String propagators) {
    return TracingConfig.builder()
        .propagators(propagators)
        .responseTraceId(true)
        .responseServerTiming(true);
  }

  private static Fixture fixture(TracingConfig.Builder config, boolean w3cOnly, boolean baggage) {
    Settings s = Settings.resolve(config.build(), k -> null, k -> null, k -> null);
    return new Fixture(new ServerTracing(s, OTEL, s.propagators), s.propagators, w3cOnly, baggage);
  }

  private static Fixture pick(FuzzHeaders h) {
    Fixture f = CONFIGS.get(String.valueOf(h.directive("config")));
    return f != null ? f : CONFIGS.get("default");
  }

  /**
   * The whole incoming path: never throws, the server span continues exactly the trace the headers
   * carry (or a new one), the request ID is the caller's when valid and fresh otherwise, the
   * deadline comes only from a well-formed header, and every response header is visible ASCII.
   */
  @FuzzTest
  void beginAndRespond(byte[] data) {
    FuzzHeaders h = FuzzHeaders.decode(data);
    Fixture f = pick(h);
    Settings settings = f.core.settings();
    Exchange ex = f.core.start(INFO.with(h), null);
    try {
      Context ctx = ex.context();
      SpanContext server = ex.span().getSpanContext();
      assertWholeOrInvalid(server);
      assertThat(server.isValid()).as("server span %s of %s", server, ex.span()).isTrue();

      Context extracted = f.propagator.extract(Context.root(), h, IncomingGetter.INSTANCE);
      SpanContext incoming = Span.fromContext(extracted).getSpanContext();
      assertWholeOrInvalid(incoming);
      if (f == CONFIGS.get("default") || f == CONFIGS.get("untrusted")) {
        assertMatchesTraceparentOracle(h, incoming);
      }
      SpanContext expectedParent =
          incoming.isValid() ? incoming : expectedFromTraceIdHeader(h.first("X-Trace-ID"));
      // OpenTelemetry drops a tracestate with a key only Level 2 allows; the filter keeps every
      // member of the list TraceStateCodec (checked against the grammar in HeaderParsersFuzzTest)
      // accepts.
      List<String> expectedTraceState =
          entries(
              expectedParent == null ? TraceState.getDefault() : expectedParent.getTraceState());
      if (f.w3cOnly
          && incoming.isValid()
          && expectedTraceState.isEmpty()
          && h.first("tracestate") != null) {
        String normal = TraceStateCodec.normalize(h.values("tracestate"));
        if (normal != null) {
          expectedTraceState = List.of(normal.split(","));
        }
      }
      // An unsampled server span is not recorded, so its parent and links cannot be read back.
      SpanData data1 = ex.span() instanceof ReadableSpan r ? r.toSpanData() : null;

      if (settings.trustIncoming) {
        if (expectedParent != null) {
          assertThat(server.getTraceId()).isEqualTo(expectedParent.getTraceId());
          assertThat(server.getSpanId()).isNotEqualTo(expectedParent.getSpanId());
          assertThat(server.isSampled()).isEqualTo(expectedParent.isSampled());
          assertThat(entries(server.getTraceState())).isEqualTo(expectedTraceState);
          if (incoming.isValid() && data1 != null) {
            assertThat(data1.getParentSpanId()).isEqualTo(incoming.getSpanId());
          }
        } else {
          assertThat(server.isSampled()).isTrue();
          assertThat(data1.getParentSpanContext().isValid()).isFalse();
        }
        assertRequestId(h.first(settings.requestIdHeader), ex.requestId());
        assertDeadline(h, settings, Cancellation.fromContext(ctx));
        Baggage baggage = Baggage.fromContext(ctx);
        assertThat(baggage.asMap()).isEqualTo(Baggage.fromContext(extracted).asMap());
        assertThat(baggage.size()).isLessThanOrEqualTo(IncomingGetter.MAX_BAGGAGE_MEMBERS);
      } else {
        // An untrusted caller's trace is only a link; nothing else of theirs is taken, not even
        // the sampling decision: the server span is a sampled root.
        assertThat(server.isSampled()).isTrue();
        assertThat(data1.getParentSpanContext().isValid()).isFalse();
        List<LinkData> links = data1.getLinks();
        if (expectedParent == null) {
          assertThat(links).isEmpty();
        } else {
          assertThat(links).hasSize(1);
          assertThat(links.get(0).getSpanContext().getTraceId())
              .isEqualTo(expectedParent.getTraceId());
        }
        assertThat(ex.requestId().isGenerated()).isTrue();
        assertThat(Baggage.fromContext(ctx).isEmpty()).isTrue();
      }

      for (Map.Entry<String, String> e : ResponseHeaders.of(f.core, ex).list()) {
        assertThat(e.getKey()).matches(VISIBLE_ASCII);
        assertThat(e.getValue()).matches(VISIBLE_ASCII);
        if (e.getKey().equalsIgnoreCase(settings.requestIdHeader)) {
          assertThat(e.getValue()).isEqualTo(ex.requestId().value());
        }
        if (e.getKey().equals("traceresponse")) {
          assertThat(e.getValue())
              .isEqualTo(
                  "00-"
                      + server.getTraceId()
                      + "-"
                      + server.getSpanId()
                      + "-"
                      + server.getTraceFlags().asHex());
        }
      }
    } finally {
      assertThat(f.core.end(ex, 200, null, true, null)).isTrue();
    }
  }

  /**
   * Extract → inject → extract gives the same context, both for the context the propagators read
   * from the headers and for the request context the application sends on; outbound values never
   * carry a control character and the outbound tracestate is at most 512 characters.
   */
  @FuzzTest
  void extractInjectRoundTrip(byte[] data) {
    FuzzHeaders h = FuzzHeaders.decode(data);
    Fixture f = pick(h);

    Context extracted = f.propagator.extract(Context.root(), h, IncomingGetter.INSTANCE);
    assertRoundTrip(f, extracted);

    Exchange ex = f.core.start(INFO.with(h), null);
    try {
      assertRoundTrip(f, ex.context());
      // With the filter's real allow-list only the allowed keys leave.
      OutboundPropagator tenantOnly = OutboundPropagator.wrap(f.propagator, List.of("tenant"));
      Context reparsed = reparse(f, inject(tenantOnly, ex.context()));
      assertThat(Baggage.fromContext(reparsed).asMap().keySet()).isSubsetOf("tenant");
    } finally {
      f.core.end(ex, 200, null, true, null);
    }
  }

  private static void assertRoundTrip(Fixture f, Context before) {
    Baggage baggage = Baggage.fromContext(before);
    List<String> keys = new ArrayList<>(baggage.asMap().keySet());
    Map<String, String> injected = inject(OutboundPropagator.wrap(f.propagator, keys), before);
    for (Map.Entry<String, String> e : injected.entrySet()) {
      assertThat(e.getKey()).matches(VISIBLE_ASCII);
      assertNoControlCharacter(e.getValue());
      if (e.getKey().equalsIgnoreCase("tracestate")) {
        assertThat(e.getValue().length()).isLessThanOrEqualTo(TraceStateCodec.MAX_OUTBOUND_LENGTH);
      }
    }
    Context after = reparse(f, injected);

    SpanContext a = Span.fromContext(before).getSpanContext();
    SpanContext b = Span.fromContext(after).getSpanContext();
    assertWholeOrInvalid(b);
    assertThat(b.isValid()).isEqualTo(a.isValid());
    if (a.isValid()) {
      assertThat(b.getTraceId()).isEqualTo(a.getTraceId());
      assertThat(b.getSpanId()).isEqualTo(a.getSpanId());
      assertThat(b.isSampled()).isEqualTo(a.isSampled());
      if (f.w3cOnly) {
        assertThat(b.getTraceFlags()).isEqualTo(a.getTraceFlags());
        assertTraceStateSurvives(a.getTraceState(), b.getTraceState());
      }
    }
    if (f.baggage) {
      // Nothing comes back that was not sent, and every entry whose key is an HTTP token comes
      // back. Jaeger's jaeger-baggage header lets any text be a key, and such a key cannot be sent
      // as an uberctx- header; OpenTelemetry's W3C parser also lets some non-token keys through
      // (a ';' in a mangled member), which its injector then writes back the same way.
      // An entry may also be left out when the whole baggage, encoded, is over the W3C limits.
      Map<String, BaggageEntry> after2 = Baggage.fromContext(after).asMap();
      assertThat(baggage.asMap()).containsAllEntriesOf(after2);
      String encoded =
          inject(W3CBaggagePropagator.getInstance(), before).getOrDefault("baggage", "");
      boolean overLimits =
          encoded.length() > IncomingGetter.MAX_BAGGAGE_BYTES
              || encoded.split(",").length > IncomingGetter.MAX_BAGGAGE_MEMBERS;
      String bounded = injected.get("baggage");
      if (bounded != null) {
        assertThat(bounded.length()).isLessThanOrEqualTo(IncomingGetter.MAX_BAGGAGE_BYTES);
        assertThat(bounded.split(",").length)
            .isLessThanOrEqualTo(IncomingGetter.MAX_BAGGAGE_MEMBERS);
      }
      // OpenTelemetry's own encoder also skips entries it deems invalid (an 8 KB value, say).
      java.util.Set<String> encodedKeys = new java.util.HashSet<>();
      for (String member : encoded.split(",")) {
        encodedKeys.add(member.split("[=;]", 2)[0].trim());
      }
      if (!overLimits) {
        baggage.forEach(
            (k, v) -> {
              // A '%' in a key (a token character, so Jaeger's uberctx- header may carry it) not
              // followed by two hex digits makes IncomingGetter leave the W3C member out on the
              // way back in, as it does every member OpenTelemetry's parser would warn about.
              if (IncomingGetter.isToken(k)
                  && encodedKeys.contains(k)
                  && !IncomingGetter.hasBadPercentEscape(k)) {
                assertThat(after2).containsEntry(k, v);
              }
            });
      }
    }
  }

  private static Map<String, String> inject(TextMapPropagator p, Context ctx) {
    Map<String, String> out = new LinkedHashMap<>();
    p.inject(ctx, out, Map::put);
    return out;
  }

  /** What the next Tracelet hop reads from {@code injected}: Level 2 trace state kept. */
  private static Context reparse(Fixture f, Map<String, String> injected) {
    FuzzHeaders carrier = FuzzHeaders.of(injected);
    Context read = f.propagator.extract(Context.root(), carrier, IncomingGetter.INSTANCE);
    SpanContext sc = Span.fromContext(read).getSpanContext();
    SpanContext restored = Level2TraceState.restore(sc, carrier);
    return restored == sc ? read : read.with(Span.wrap(restored));
  }

  /**
   * A tracestate of at most 512 characters comes back whole; a longer one comes back as a subset of
   * its entries, in order, within 512 characters.
   */
  private static void assertTraceStateSurvives(TraceState before, TraceState after) {
    List<String> a = entries(before);
    List<String> b = entries(after);
    if (String.join(",", a).length() <= TraceStateCodec.MAX_OUTBOUND_LENGTH) {
      assertThat(b).isEqualTo(a);
    } else {
      assertThat(String.join(",", b).length())
          .isLessThanOrEqualTo(TraceStateCodec.MAX_OUTBOUND_LENGTH);
      if (!b.isEmpty()) {
        assertThat(a).containsSubsequence(b);
      }
    }
  }

  private static List<String> entries(TraceState ts) {
    List<String> out = new ArrayList<>();
    ts.forEach((k, v) -> out.add(k + "=" + v));
    return out;
  }

  /** Valid means both IDs valid; otherwise both are the all-zero IDs (never half valid). */
  static void assertWholeOrInvalid(SpanContext sc) {
    boolean idsValid = TraceId.isValid(sc.getTraceId()) && SpanId.isValid(sc.getSpanId());
    assertThat(sc.isValid()).isEqualTo(idsValid);
    if (!sc.isValid()) {
      assertThat(sc.getTraceId()).isEqualTo(ZERO_TRACE);
      assertThat(sc.getSpanId()).isEqualTo(ZERO_SPAN);
    } else {
      assertThat(sc.getTraceId()).matches("[0-9a-f]{32}");
      assertThat(sc.getSpanId()).matches("[0-9a-f]{16}");
    }
  }

  /**
   * An independent reading of the W3C rules for the tracecontext-only configurations: exactly one
   * traceparent header (no comma), trimmed of spaces and tabs, of the grammar above.
   */
  private static void assertMatchesTraceparentOracle(FuzzHeaders h, SpanContext incoming) {
    List<String> values = h.values("traceparent");
    SpanContext expected = null;
    if (values.size() == 1) {
      var m = TRACEPARENT.matcher(TraceStateCodec.trimOws(values.get(0)));
      if (m.matches()) {
        int g = m.group(1) != null ? 1 : 4;
        String traceId = m.group(g);
        String spanId = m.group(g + 1);
        if (!traceId.equals(ZERO_TRACE) && !spanId.equals(ZERO_SPAN)) {
          expected =
              SpanContext.createFromRemoteParent(
                  traceId,
                  spanId,
                  io.opentelemetry.api.trace.TraceFlags.fromHex(m.group(g + 2), 0),
                  TraceState.getDefault());
        }
      }
    }
    if (expected == null) {
      assertThat(incoming.isValid()).as("traceparent %s", values).isFalse();
    } else {
      assertThat(incoming.isValid()).as("traceparent %s", values).isTrue();
      assertThat(incoming.getTraceId()).isEqualTo(expected.getTraceId());
      assertThat(incoming.getSpanId()).isEqualTo(expected.getSpanId());
      assertThat(incoming.getTraceFlags()).isEqualTo(expected.getTraceFlags());
    }
  }

  /** The oracle for the Go middleware's header: 32 lowercase hex, not all zeros, OWS trimmed. */
  private static SpanContext expectedFromTraceIdHeader(String value) {
    if (value == null) {
      return null;
    }
    var m = TRACE_ID_HEADER.matcher(value);
    if (!m.matches() || m.group(1).equals(ZERO_TRACE)) {
      return null;
    }
    return SpanContext.createFromRemoteParent(
        m.group(1),
        "0000000000000001",
        io.opentelemetry.api.trace.TraceFlags.getSampled(),
        TraceState.getDefault());
  }

  static void assertRequestId(String incoming, RequestId id) {
    if (incoming != null && REQUEST_ID.matcher(incoming).matches()) {
      assertThat(id.value()).isEqualTo(incoming);
      assertThat(id.isGenerated()).isFalse();
    } else {
      assertThat(id.value()).matches(GENERATED_ID);
      assertThat(id.isGenerated()).isTrue();
    }
  }

  /** Oracle for {@code DeadlineHeader.parseMillis}: 1 to 9 digits, positive, OWS around. */
  static long expectedMillis(String value) {
    if (value == null) {
      return -1;
    }
    var m = DEADLINE.matcher(value);
    if (!m.matches()) {
      return -1;
    }
    long v = Long.parseLong(m.group(1));
    return v > 0 ? v : -1;
  }

  private static void assertDeadline(FuzzHeaders h, Settings s, Cancellation c) {
    Duration bound = s.requestTimeout;
    if (s.deadlineHeader != null) {
      long millis = expectedMillis(h.first(s.deadlineHeader));
      if (millis > 0) {
        Duration incoming = Duration.ofMillis(millis);
        Duration capped =
            incoming.compareTo(s.maxIncomingTimeout) <= 0 ? incoming : s.maxIncomingTimeout;
        bound = bound == null || capped.compareTo(bound) < 0 ? capped : bound;
      }
    }
    assertThat(c.hasDeadline()).isEqualTo(bound != null);
    if (bound != null) {
      // Time only runs down, so what remains can never exceed the bound the headers allow.
      assertThat(c.remainingNanos()).isLessThanOrEqualTo(bound.toNanos());
    }
  }

  static void assertNoControlCharacter(String value) {
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      // TAB is allowed in an HTTP field value; CR, LF and the rest are not.
      assertThat((c < 0x20 && c != '\t') || c == 0x7f || c > 0x7e)
          .as("character U+%04X in %s", (int) c, value)
          .isFalse();
    }
  }
}
