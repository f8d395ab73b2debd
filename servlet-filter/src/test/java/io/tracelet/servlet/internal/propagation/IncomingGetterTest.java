package io.tracelet.servlet.internal.propagation;

import static org.assertj.core.api.Assertions.assertThat;

import io.opentelemetry.api.baggage.Baggage;
import io.opentelemetry.api.baggage.propagation.W3CBaggagePropagator;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.propagation.TextMapGetter;
import io.opentelemetry.context.propagation.TextMapPropagator;
import io.opentelemetry.extension.trace.propagation.JaegerPropagator;
import org.junit.jupiter.api.Test;

/**
 * The W3C fixes of {@link IncomingGetter}; the {@code otelAlone_} tests pin down what the
 * OpenTelemetry propagator does without it, which is why the layer exists.
 */
class IncomingGetterTest {

  static final String TRACE_ID = "0af7651916cd43dd8448eb211c80319c";
  static final String TP = "00-" + TRACE_ID + "-b7ad6b7169203331-01";

  /** The naive getter: first value only, as a servlet's getHeader gives it. */
  static final TextMapGetter<HeaderSource> NAIVE =
      new TextMapGetter<>() {
        @Override
        public Iterable<String> keys(HeaderSource c) {
          return c.names();
        }

        @Override
        public String get(HeaderSource c, String key) {
          return c.first(key);
        }
      };

  static SpanContext extract(HeaderSource h, TextMapGetter<HeaderSource> getter) {
    return Span.fromContext(
            W3CTraceContextPropagator.getInstance().extract(Context.root(), h, getter))
        .getSpanContext();
  }

  @Test
  void otelAlone_rejectsLeadingWhitespace_dropsTracestateOnDuplicateKey_andReadsFirstTraceparent() {
    assertThat(extract(TestHeaders.of("traceparent", " " + TP), NAIVE).isValid()).isFalse();
    assertThat(
            extract(TestHeaders.of("traceparent", TP, "tracestate", "a=1,b=2,a=3"), NAIVE)
                .getTraceState()
                .isEmpty())
        .isTrue();
    assertThat(
            extract(
                    TestHeaders.of(
                        "traceparent",
                        TP,
                        "traceparent",
                        "00-" + "1".repeat(32) + "-" + "2".repeat(16) + "-01"),
                    NAIVE)
                .isValid())
        .isTrue();
  }

  @Test
  void whitespaceAroundTraceparent_isAccepted() {
    SpanContext sc =
        extract(TestHeaders.of("TRACEPARENT", "\t" + TP + " "), IncomingGetter.INSTANCE);
    assertThat(sc.getTraceId()).isEqualTo(TRACE_ID);
  }

  @Test
  void repeatedTraceparent_isInvalid() {
    HeaderSource h = TestHeaders.of("traceparent", TP, "traceparent", TP);
    assertThat(extract(h, IncomingGetter.INSTANCE).isValid()).isFalse();
    assertThat(
            extract(TestHeaders.of("traceparent", TP + "," + TP), IncomingGetter.INSTANCE)
                .isValid())
        .isFalse();
  }

  @Test
  void duplicatedTracestateKey_keepsTheOtherMembers() {
    HeaderSource h =
        TestHeaders.of("traceparent", TP, "tracestate", "a=1,b=2", "Tracestate", "a=3, c=4");
    assertThat(extract(h, IncomingGetter.INSTANCE).getTraceState().asMap())
        .containsOnlyKeys("a", "b", "c")
        .containsEntry("a", "1");
  }

  @Test
  void baggageWithinLimits_isReadFromAllHeaders() {
    HeaderSource h = TestHeaders.of("baggage", "a=1", "baggage", "b=2");
    Baggage b =
        Baggage.fromContext(
            W3CBaggagePropagator.getInstance().extract(Context.root(), h, IncomingGetter.INSTANCE));
    assertThat(b.asMap()).containsOnlyKeys("a", "b");
  }

  @Test
  void baggageOverLimits_isDroppedWhole() {
    StringBuilder many = new StringBuilder();
    for (int i = 0; i < 65; i++) {
      many.append(i == 0 ? "" : ",").append("k").append(i).append("=v");
    }
    assertThat(IncomingGetter.baggage(java.util.List.of(many.toString()))).isEmpty();
    assertThat(
            IncomingGetter.baggage(
                java.util.List.of("a=" + "x".repeat(5000), "b=" + "y".repeat(4000))))
        .isEmpty();
    assertThat(IncomingGetter.baggage(java.util.List.of("a=" + "x".repeat(8000)))).hasSize(1);
  }

  @Test
  void uberTraceIdWithBadPercentEscape_isAbsent_soJaegerExtractDoesNotThrow() {
    // Found by ServerTracingFuzzTest (seed
    // ServerTracingFuzzTestInputs/*/jaeger-bad-percent-escape): OpenTelemetry's Jaeger propagator
    // up to 1.67 URL-decodes a value without ':' and URLDecoder throws. 1.68 no longer throws, but
    // an application's own dependency management may pin an older propagator, so the guard stays.
    TestHeaders h = TestHeaders.of("uber-trace-id", "%?", "traceparent", TP);
    assertThat(IncomingGetter.INSTANCE.get(h, "uber-trace-id")).isNull();
    TextMapPropagator jaegerThenW3c =
        TextMapPropagator.composite(
            JaegerPropagator.getInstance(), W3CTraceContextPropagator.getInstance());
    Context ctx = jaegerThenW3c.extract(Context.root(), h, IncomingGetter.INSTANCE);
    assertThat(Span.fromContext(ctx).getSpanContext().getTraceId()).isEqualTo(TRACE_ID);

    String encoded = "80f198ee56343ba864fe8b2a57d3eff7%3Ae457b5a2e4d86bd1%3A0%3A1";
    assertThat(
            IncomingGetter.INSTANCE.get(TestHeaders.of("uber-trace-id", encoded), "uber-trace-id"))
        .isEqualTo(encoded);
    for (String bad : new String[] {"%", "a%2", "a%zz", "a%-1", "a%\u0661\u0662"}) {
      assertThat(IncomingGetter.hasBadPercentEscape(bad)).as(bad).isTrue();
    }
  }

  // Regression: OpenTelemetry's baggage parser logs a WARNING with a stack trace for each member
  // with a broken percent-escape, on every request; such members are now left out before it.
  @Test
  void baggageMembersOtelWouldWarnAbout_areLeftOut_theOthersKept() {
    assertThat(
            IncomingGetter.INSTANCE.get(
                TestHeaders.of("baggage", "a=1,k=%zz,b=%4,c=%41"), "baggage"))
        .isEqualTo("a=1,c=%41");
    assertThat(IncomingGetter.INSTANCE.get(TestHeaders.of("baggage", "k=%"), "baggage")).isNull();
    assertThat(
            IncomingGetter.INSTANCE.get(TestHeaders.of("baggage", "k=v;p=\u00e9,ok=1"), "baggage"))
        .isEqualTo("ok=1");
    String clean = "a=1, b=2;p=q";
    assertThat(IncomingGetter.withoutUnsafeMembers(clean)).isSameAs(clean);
  }

  @Test
  void headerNamesThatAreNotTokens_areNotOfferedAsKeys() {
    // Found by ServerTracingFuzzTest (seed
    // extractInjectRoundTrip/jaeger-non-token-header-name-found):
    // Jaeger's propagator made a baggage key of a non-ASCII header name.
    TestHeaders h =
        TestHeaders.of("uberctx-ok", "1", "uberctx-t\u00e9nant", "2", "uberctx-a b", "3");
    @SuppressWarnings("deprecation")
    Iterable<String> keys = IncomingGetter.INSTANCE.keys(h);
    assertThat(keys).containsExactly("uberctx-ok");
    Baggage b =
        Baggage.fromContext(
            JaegerPropagator.getInstance().extract(Context.root(), h, IncomingGetter.INSTANCE));
    assertThat(b.asMap()).containsOnlyKeys("ok");
  }
}
