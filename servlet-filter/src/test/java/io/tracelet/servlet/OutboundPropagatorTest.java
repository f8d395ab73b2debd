package io.tracelet.servlet;

import static org.assertj.core.api.Assertions.assertThat;

import io.opentelemetry.api.baggage.Baggage;
import io.opentelemetry.api.baggage.propagation.W3CBaggagePropagator;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.TraceFlags;
import io.opentelemetry.api.trace.TraceState;
import io.opentelemetry.api.trace.TraceStateBuilder;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.propagation.TextMapPropagator;
import io.opentelemetry.extension.trace.propagation.JaegerPropagator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class OutboundPropagatorTest {

  final TextMapPropagator outbound =
      OutboundPropagator.wrap(
          TextMapPropagator.composite(
              W3CTraceContextPropagator.getInstance(), W3CBaggagePropagator.getInstance()),
          List.of("tenant"));

  Map<String, String> inject(Context context) {
    Map<String, String> headers = new HashMap<>();
    outbound.inject(context, headers, Map::put);
    return headers;
  }

  @Test
  void onlyAllowListedBaggage_isForwarded() {
    Context ctx =
        Context.root().with(Baggage.builder().put("tenant", "acme").put("user", "secret").build());
    assertThat(inject(ctx)).containsEntry("baggage", "tenant=acme");
    Context none = Context.root().with(Baggage.builder().put("user", "secret").build());
    assertThat(inject(none)).doesNotContainKey("baggage");
  }

  @Test
  void tracestate_isBoundedTo512Characters() {
    TraceStateBuilder ts = TraceState.builder();
    for (int i = 0; i < 32; i++) {
      ts.put("vendor" + i, "v".repeat(30));
    }
    SpanContext sc =
        SpanContext.create(
            "0af7651916cd43dd8448eb211c80319c",
            "b7ad6b7169203331",
            TraceFlags.getSampled(),
            ts.build());
    Map<String, String> headers = inject(Context.root().with(Span.wrap(sc)));
    assertThat(headers.get("traceparent")).isNotNull();
    assertThat(headers.get("tracestate").length()).isLessThanOrEqualTo(512);
    assertThat(headers.get("tracestate")).matches("(vendor\\d+=v{30},)*vendor\\d+=v{30}");
  }

  @Test
  void rawBaggageWithCrLf_isNotWrittenAsAHeader_theEncodedOneIs() {
    // Found by fuzzing (ServerTracingFuzzTest): Jaeger's propagator sends baggage raw as
    // uberctx-<key>, and W3C baggage decodes %0D%0A into the value.
    TextMapPropagator jaegerAndW3c =
        OutboundPropagator.wrap(
            TextMapPropagator.composite(
                JaegerPropagator.getInstance(), W3CBaggagePropagator.getInstance()),
            List.of("tenant", "t\u00e9"));
    Context ctx =
        Context.root()
            .with(Baggage.builder().put("tenant", "a\r\nX-Evil: 1").put("t\u00e9", "x").build());
    Map<String, String> headers = new HashMap<>();
    jaegerAndW3c.inject(ctx, headers, Map::put);
    assertThat(headers).doesNotContainKey("uberctx-tenant").doesNotContainKey("uberctx-t\u00e9");
    assertThat(headers.get("baggage")).isEqualTo("tenant=a%0D%0AX-Evil:%201");
  }

  @Test
  void baggageOverTheW3cLimits_isBoundedByWholeMembers() {
    List<String> keys = new java.util.ArrayList<>();
    io.opentelemetry.api.baggage.BaggageBuilder b = Baggage.builder();
    for (int i = 0; i < 70; i++) {
      keys.add("k" + i);
      b.put("k" + i, "v");
    }
    Map<String, String> headers = new HashMap<>();
    OutboundPropagator.wrap(W3CBaggagePropagator.getInstance(), keys)
        .inject(Context.root().with(b.build()), headers, Map::put);
    assertThat(headers.get("baggage").split(",")).hasSize(64);
    String x = "a=" + "x".repeat(3000);
    assertThat(OutboundPropagator.boundBaggage(x + "," + x + "," + x + ",b=1"))
        .isEqualTo(x + "," + x);
    assertThat(OutboundPropagator.boundBaggage("a=" + "x".repeat(9000))).isNull();
  }
}
