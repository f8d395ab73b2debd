package io.tracelet.servlet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.opentelemetry.api.baggage.propagation.W3CBaggagePropagator;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.propagation.TextMapGetter;
import io.opentelemetry.context.propagation.TextMapPropagator;
import io.opentelemetry.context.propagation.TextMapSetter;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.tracelet.servlet.internal.propagation.IsolatedPropagator;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.slf4j.LoggerFactory;

/**
 * Issue 7 section 2: a configured propagator that throws (a {@link RuntimeException} quoting the
 * header, or a real {@link StackOverflowError} from runaway recursion) is isolated, in the filter
 * and in outbound injection: the other propagators still run, the request is served, the failure is
 * counted and logged at a bounded rate without the raw header.
 */
class PropagatorFaultTest {

  static final String T = HostileInputTest.T;
  static final String TP = HostileInputTest.TP;
  static final String FORGED = "forged\u2028line";

  private final ListAppender<ILoggingEvent> logs = new ListAppender<>();
  private Logger isolatedLog;

  @BeforeEach
  void captureLogs() {
    isolatedLog = (Logger) LoggerFactory.getLogger(IsolatedPropagator.class);
    logs.start();
    isolatedLog.addAppender(logs);
  }

  @AfterEach
  void release() {
    isolatedLog.detachAppender(logs);
    assertThat(Context.current()).isSameAs(Context.root());
  }

  /** Reads (so a real parse happens) then fails the way {@code kind} says, in both directions. */
  static final class FaultyPropagator implements TextMapPropagator {
    private final String kind;

    FaultyPropagator(String kind) {
      this.kind = kind;
    }

    @Override
    public Collection<String> fields() {
      return List.of("x-faulty");
    }

    @Override
    public <C> void inject(Context context, C carrier, TextMapSetter<C> setter) {
      fail(() -> "inject");
    }

    @Override
    public <C> Context extract(Context context, C carrier, TextMapGetter<C> getter) {
      String value = getter.get(carrier, "x-faulty");
      return fail(() -> value);
    }

    private Context fail(Supplier<String> quoted) {
      if (kind.equals("internal-error")) {
        throw new InternalError("the JVM is in trouble");
      }
      if (kind.equals("runtime")) {
        // A message that quotes the untrusted header, as parser exceptions often do.
        throw new IllegalArgumentException("cannot parse x-faulty: " + quoted.get());
      }
      return recurse(0);
    }

    private Context recurse(int depth) {
      // Real unbounded recursion, not a StackOverflowError thrown by hand.
      Context c = recurse(depth + 1);
      return depth < 0 ? c : null;
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"runtime", "stack-overflow"})
  void throwingPropagator_isIsolated_othersRun_requestServed_countedAndLoggedBounded(String kind)
      throws Exception {
    try (HostileServer s =
        HostileServer.start(
            b ->
                b.propagator(
                        new FaultyPropagator(kind),
                        W3CTraceContextPropagator.getInstance(),
                        W3CBaggagePropagator.getInstance())
                    .baggageAllowList("tenant"))) {
      for (int i = 0; i < 100; i++) {
        String id = "pf-" + kind + "-" + i;
        RawHttp.Response r =
            s.get(
                "/echo",
                "traceparent: " + TP,
                "baggage: tenant=acme",
                "x-faulty: " + FORGED,
                "X-Request-ID: " + id);
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.echo())
            .containsEntry("traceId", T)
            .containsEntry("baggage", "{tenant=acme}")
            .containsEntry("requestId", id);
        SpanData span = s.awaitSpan(id);
        assertThat(span.getParentSpanContext().getSpanId()).isEqualTo(HostileInputTest.P);
      }
      assertThat(s.propagatorFailures("extract")).isEqualTo(100);

      // Outbound: the faulty propagator's inject fails, W3C and baggage are still injected.
      RawHttp.Response out =
          s.get("/inject", "traceparent: " + TP, "baggage: tenant=acme", "x-faulty: x");
      assertThat(out.status()).isEqualTo(200);
      assertThat(out.echo().get("traceparent")).startsWith("00-" + T + "-");
      assertThat(out.echo()).containsEntry("baggage", "tenant=acme");
      assertThat(s.propagatorFailures("inject")).isEqualTo(1);
      assertThat(s.threadGuard.escaped.get()).isZero();
      assertThat(s.threadGuard.dirty.get()).isZero();
    }
    // 202 failures within a minute: one warning line, no stack trace, never the raw header.
    assertThat(logs.list).hasSize(1);
    ILoggingEvent e = logs.list.get(0);
    assertThat(e.getLevel()).isEqualTo(Level.WARN);
    assertThat(e.getThrowableProxy()).isNull();
    assertThat(e.getFormattedMessage())
        .contains(FaultyPropagator.class.getName())
        .doesNotContain("forged")
        .doesNotContain("\u2028");
  }

  @org.junit.jupiter.api.Test
  void otherErrors_areNotSwallowed_theContainerAnswers500_threadStaysClean() throws Exception {
    try (HostileServer s =
        HostileServer.start(
            b ->
                b.propagator(
                    new FaultyPropagator("internal-error"),
                    W3CTraceContextPropagator.getInstance()))) {
      RawHttp.Response r = s.get("/echo", "traceparent: " + TP);
      assertThat(r.status()).isEqualTo(500);
      assertThat(s.threadGuard.escaped.get()).isEqualTo(1);
      assertThat(s.threadGuard.dirty.get()).isZero();
      assertThat(s.propagatorFailures("extract")).isZero();
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"runtime", "stack-overflow"})
  void outboundPropagatorWrappingAFaultyOne_neverThrows(String kind) {
    OutboundPropagator outbound =
        OutboundPropagator.wrap(
            TextMapPropagator.composite(W3CTraceContextPropagator.getInstance()), List.of());
    OutboundPropagator faulty = OutboundPropagator.wrap(new FaultyPropagator(kind), List.of());
    Map<String, String> carrier = new HashMap<>();
    assertThatCode(() -> faulty.inject(Context.root(), carrier, Map::put))
        .doesNotThrowAnyException();
    assertThatCode(() -> outbound.inject(Context.root(), carrier, Map::put))
        .doesNotThrowAnyException();
  }
}
