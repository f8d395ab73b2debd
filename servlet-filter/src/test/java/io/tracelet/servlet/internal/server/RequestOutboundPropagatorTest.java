package io.tracelet.servlet.internal.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.opentelemetry.api.baggage.Baggage;
import io.opentelemetry.api.baggage.propagation.W3CBaggagePropagator;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.propagation.TextMapPropagator;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.tracelet.internal.OutboundPropagation;
import io.tracelet.servlet.TestSdks;
import io.tracelet.servlet.TracingConfig;
import io.tracelet.servlet.internal.propagation.TestHeaders;
import io.tracelet.servlet.internal.settings.Settings;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Every request context the core builds carries the filter's outbound propagator, so Tracelet's
 * HTTP client forwards only the allow-listed baggage without the application wiring it in.
 */
class RequestOutboundPropagatorTest {

  static final String TP = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

  final InMemorySpanExporter exporter = InMemorySpanExporter.create();
  final OpenTelemetrySdk otel = TestSdks.recordingInto(exporter);

  @AfterEach
  void close() {
    otel.close();
  }

  ServerTracing core(TracingConfig.Builder config) {
    Settings s = Settings.resolve(config.build(), k -> null, k -> null, k -> null);
    return new ServerTracing(
        s,
        otel,
        TextMapPropagator.composite(
            W3CTraceContextPropagator.getInstance(), W3CBaggagePropagator.getInstance()));
  }

  static Map<String, String> outboundHeaders(Context requestContext) {
    TextMapPropagator outbound = OutboundPropagation.fromContext(requestContext);
    assertThat(outbound).as("the request's outbound propagator").isNotNull();
    Map<String, String> headers = new HashMap<>();
    outbound.inject(requestContext, headers, Map::put);
    return headers;
  }

  @Test
  void begin_withTheDefaultAllowList_forwardsNoBaggage_butKeepsItReadable() {
    ServerTracing exCore = core(TracingConfig.builder());
    Exchange ex =
        exCore.start(
            RequestInfo.get("/a")
                .with(TestHeaders.of("traceparent", TP, "baggage", "tenant=acme,s=x")),
            null);

    assertThat(Baggage.fromContext(ex.context()).getEntryValue("tenant")).isEqualTo("acme");
    Map<String, String> sent = outboundHeaders(ex.context());
    assertThat(sent).doesNotContainKey("baggage");
    assertThat(sent.get("traceparent"))
        .contains(Span.fromContext(ex.context()).getSpanContext().getSpanId());
    exCore.end(ex, 200, null, true, null);
  }

  @Test
  void begin_forwardsOnlyTheAllowListedKeys() {
    ServerTracing exCore = core(TracingConfig.builder().baggageAllowList("tenant"));
    Exchange ex =
        exCore.start(
            RequestInfo.get("/a").with(TestHeaders.of("baggage", "tenant=acme,session=s3cr3t")),
            null);

    assertThat(outboundHeaders(ex.context())).containsEntry("baggage", "tenant=acme");
    exCore.end(ex, 200, null, true, null);
  }

  @Test
  void excludedPath_stillForwardsOnlyTheAllowListedKeys() {
    ServerTracing exCore =
        core(TracingConfig.builder().excludedPaths("/health").baggageAllowList("tenant"));
    Exchange ex =
        exCore.start(
            RequestInfo.get("/health")
                .with(TestHeaders.of("baggage", "tenant=acme,session=s3cr3t")),
            null);

    assertThat(outboundHeaders(ex.context())).containsEntry("baggage", "tenant=acme");
    exCore.end(ex, 200, null, true, null);
  }

  @Test
  void join_insideAnOuterInstrumentation_forwardsOnlyTheAllowListedKeys() {
    // The outer instrumentation (the Java agent's server span) extracted the caller's baggage.
    Span outer = otel.getTracer("outer").spanBuilder("GET /*").startSpan();
    Context entry =
        Context.root()
            .with(outer)
            .with(Baggage.builder().put("tenant", "acme").put("session", "s3cr3t").build());

    ServerTracing exCore = core(TracingConfig.builder().baggageAllowList("tenant"));
    Exchange ex = exCore.start(RequestInfo.get("/a").with(TestHeaders.of()), entry);

    assertThat(Span.fromContext(ex.context())).isSameAs(outer);
    assertThat(outboundHeaders(ex.context())).containsEntry("baggage", "tenant=acme");
    exCore.end(ex, 200, null, true, null);
    outer.end();
  }
}
