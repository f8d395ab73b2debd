package io.tracelet.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.baggage.Baggage;
import io.opentelemetry.api.baggage.propagation.W3CBaggagePropagator;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.Scope;
import io.opentelemetry.context.propagation.ContextPropagators;
import io.opentelemetry.context.propagation.TextMapGetter;
import io.opentelemetry.context.propagation.TextMapPropagator;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import io.tracelet.concurrent.ContextExecutors;
import io.tracelet.internal.OutboundPropagation;
import java.net.http.HttpClient;
import java.net.http.HttpHeaders;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse.BodyHandlers;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Which propagator {@link ContextHttpClient} injects with: the one it was built with, else the
 * request's (what Tracelet's servlet filter stores in the request context: baggage limited to the
 * allow-list), else the OpenTelemetry instance's. A real JDK client against a real Jetty.
 */
class RequestPropagatorTest {

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

  // What a request admitted by the filter carries with the default, empty allow-list: the trace
  // context goes on, no baggage does.
  private static final TextMapPropagator TRACE_ONLY =
      TextMapPropagator.composite(W3CTraceContextPropagator.getInstance());

  private final InMemorySpanExporter exporter = InMemorySpanExporter.create();
  private final SdkTracerProvider tracerProvider =
      SdkTracerProvider.builder().addSpanProcessor(SimpleSpanProcessor.create(exporter)).build();
  // The OpenTelemetry instance's propagators send W3C baggage, as OpenTelemetry's defaults do.
  private final OpenTelemetry otel =
      OpenTelemetrySdk.builder()
          .setTracerProvider(tracerProvider)
          .setPropagators(
              ContextPropagators.create(
                  TextMapPropagator.composite(
                      W3CTraceContextPropagator.getInstance(), W3CBaggagePropagator.getInstance())))
          .build();
  private final HttpClient plain = HttpClient.newHttpClient();
  private Downstream downstream;
  private HttpClient client;

  @BeforeEach
  void start() throws Exception {
    downstream = new Downstream();
    client = ContextHttpClient.builder(plain).setOpenTelemetry(otel).build();
  }

  @AfterEach
  void stop() throws Exception {
    downstream.close();
    tracerProvider.close();
    assertThat(Context.current()).isSameAs(Context.root());
  }

  @Test
  void insideARequest_theRequestsPropagatorIsUsed_soItsBaggageStaysHome() throws Exception {
    try (Scope scope = request(TRACE_ONLY).makeCurrent()) {
      client.send(get(), BodyHandlers.discarding());
    }

    HttpHeaders sent = downstream.lastHeaders();
    assertThat(sent.firstValue("baggage")).isEmpty();
    // The trace still crosses the hop, with the CLIENT span as the downstream's parent.
    assertThat(extractedParent(sent).getSpanId()).isEqualTo(onlyClientSpan().getSpanId());
  }

  @Test
  void outsideARequest_theOpenTelemetryInstancesPropagatorsAreUsed() throws Exception {
    try (Scope scope = Context.root().with(callerBaggage()).makeCurrent()) {
      client.send(get(), BodyHandlers.discarding());
    }

    assertThat(sentBaggage()).isEqualTo(callerBaggage());
    assertThat(extractedParent(downstream.lastHeaders()).getSpanId())
        .isEqualTo(onlyClientSpan().getSpanId());
  }

  @Test
  void aPropagatorSetOnTheClient_winsOverTheRequests() throws Exception {
    HttpClient explicit =
        ContextHttpClient.builder(plain)
            .setOpenTelemetry(otel)
            .setPropagator(W3CBaggagePropagator.getInstance())
            .build();
    try (Scope scope = request(TRACE_ONLY).makeCurrent()) {
      explicit.send(get(), BodyHandlers.discarding());
    }

    assertThat(sentBaggage()).isEqualTo(callerBaggage());
    assertThat(downstream.lastHeaders().firstValue("traceparent")).isEmpty();
  }

  @Test
  void sendAsync_usesThePropagatorOfTheContextCurrentAtTheCall() throws Exception {
    try (Scope scope = request(TRACE_ONLY).makeCurrent()) {
      client.sendAsync(get(), BodyHandlers.discarding()).get(30, TimeUnit.SECONDS);
    }

    assertThat(downstream.lastHeaders().firstValue("baggage")).isEmpty();
    assertThat(downstream.lastHeaders().firstValue("traceparent")).isPresent();
  }

  @Test
  void aCallOnAnotherThread_keepsTheRequestsPropagator() throws Exception {
    ExecutorService pool = ContextExecutors.wrap(Executors.newSingleThreadExecutor());
    try (Scope scope = request(TRACE_ONLY).makeCurrent()) {
      pool.submit(() -> client.send(get(), BodyHandlers.discarding())).get(30, TimeUnit.SECONDS);
    } finally {
      pool.shutdown();
    }

    assertThat(downstream.lastHeaders().firstValue("baggage")).isEmpty();
    assertThat(downstream.lastHeaders().firstValue("traceparent")).isPresent();
  }

  @Test
  void withANoopOpenTelemetry_theRequestsPropagatorStillSendsTheTrace() throws Exception {
    // A no-op OpenTelemetry has no propagators: inside a request the filter's still apply.
    HttpClient noop =
        ContextHttpClient.builder(plain).setOpenTelemetry(OpenTelemetry.noop()).build();
    SpanContext server = otel.getTracer("test").spanBuilder("server").startSpan().getSpanContext();
    try (Scope scope = request(TRACE_ONLY).with(Span.wrap(server)).makeCurrent()) {
      noop.send(get(), BodyHandlers.discarding());
    }

    assertThat(extractedParent(downstream.lastHeaders()).getTraceId())
        .isEqualTo(server.getTraceId());
  }

  /** A request context as the filter builds it: the caller's baggage, the request's propagator. */
  private static Context request(TextMapPropagator outbound) {
    return OutboundPropagation.storeInContext(Context.root().with(callerBaggage()), outbound);
  }

  private static Baggage callerBaggage() {
    return Baggage.builder().put("tenant", "acme").put("session", "s3cr3t").build();
  }

  private Baggage sentBaggage() {
    return Baggage.fromContext(
        W3CBaggagePropagator.getInstance()
            .extract(Context.root(), downstream.lastHeaders(), HEADERS));
  }

  private static SpanContext extractedParent(HttpHeaders headers) {
    return Span.fromContext(
            W3CTraceContextPropagator.getInstance().extract(Context.root(), headers, HEADERS))
        .getSpanContext();
  }

  private HttpRequest get() {
    return HttpRequest.newBuilder(downstream.uri("/ok")).build();
  }

  private SpanData onlyClientSpan() {
    assertThat(exporter.getFinishedSpanItems()).hasSize(1);
    return exporter.getFinishedSpanItems().get(0);
  }
}
