package io.tracelet.logging;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.opentelemetry.api.baggage.Baggage;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.TraceFlags;
import io.opentelemetry.api.trace.TraceState;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.Scope;
import io.tracelet.RequestId;
import io.tracelet.testing.TestTracing;
import io.tracelet.trace.SpanScope;
import io.tracelet.trace.Spans;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.MDC;

class TraceletMdcTest {

  private final TestTracing tracing = new TestTracing();
  private final Spans spans = Spans.create(tracing.openTelemetry());

  @BeforeEach
  void active() {
    assertThat(TraceletMdc.isActive()).as("installed by InstallMdcFirst").isTrue();
    MDC.clear();
  }

  @AfterEach
  void close() {
    tracing.close();
    assertThat(Context.current()).isSameAs(Context.root());
    assertThat(mdc()).isEmpty();
  }

  private static Map<String, String> mdc() {
    Map<String, String> copy = MDC.getCopyOfContextMap();
    return copy == null ? Map.of() : new HashMap<>(copy);
  }

  @Test
  void currentContext_isInMdc_andRemovedAfterwards() {
    RequestId id = RequestId.of("req-1");
    try (Scope r = id.storeInContext(Context.root()).makeCurrent()) {
      assertThat(mdc()).containsExactly(Map.entry(TraceletMdc.REQUEST_ID, "req-1"));
      try (SpanScope s = spans.start("request")) {
        SpanContext sc = s.span().getSpanContext();
        assertThat(mdc())
            .containsOnly(
                Map.entry(TraceletMdc.TRACE_ID, sc.getTraceId()),
                Map.entry(TraceletMdc.SPAN_ID, sc.getSpanId()),
                Map.entry(TraceletMdc.REQUEST_ID, "req-1"));
      }
      assertThat(mdc()).containsExactly(Map.entry(TraceletMdc.REQUEST_ID, "req-1"));
    }
  }

  @Test
  void nestedScopes_restoreOuterValues_includingParentSpanId() {
    try (SpanScope outer = spans.start("outer")) {
      String outerId = outer.span().getSpanContext().getSpanId();
      try (SpanScope inner = spans.start("inner")) {
        assertThat(MDC.get(TraceletMdc.SPAN_ID))
            .isEqualTo(inner.span().getSpanContext().getSpanId());
        assertThat(MDC.get(TraceletMdc.PARENT_SPAN_ID)).isEqualTo(outerId);
      }
      assertThat(MDC.get(TraceletMdc.SPAN_ID)).isEqualTo(outerId);
      assertThat(MDC.get(TraceletMdc.PARENT_SPAN_ID)).isNull();
    }
  }

  @Test
  void valuesSetByTheApplication_arePutBack_notCleared() {
    MDC.put(TraceletMdc.TRACE_ID, "set-by-app");
    MDC.put("user", "alice");
    try (SpanScope s = spans.start("work")) {
      assertThat(MDC.get(TraceletMdc.TRACE_ID)).isEqualTo(s.span().getSpanContext().getTraceId());
    }
    assertThat(mdc())
        .containsOnly(Map.entry(TraceletMdc.TRACE_ID, "set-by-app"), Map.entry("user", "alice"));
    MDC.clear();
  }

  @Test
  void exception_stillRestores() {
    assertThatThrownBy(
            () ->
                spans.run(
                    "failing",
                    () -> {
                      assertThat(MDC.get(TraceletMdc.SPAN_ID)).isNotNull();
                      throw new IllegalStateException("boom");
                    }))
        .hasMessage("boom");
    assertThat(mdc()).isEmpty();
  }

  @Test
  void sameSpanAndRequest_doesNoMdcWork() {
    try (SpanScope s = spans.start("work")) {
      MDC.put(TraceletMdc.SPAN_ID, "marker");
      Context withBaggage = Context.current().with(Baggage.builder().put("k", "v").build());
      try (Scope b = withBaggage.makeCurrent()) {
        // Unchanged span and request ID: the storage does not even look at the MDC.
        assertThat(MDC.get(TraceletMdc.SPAN_ID)).isEqualTo("marker");
      }
      assertThat(MDC.get(TraceletMdc.SPAN_ID)).isEqualTo("marker");
    }
  }

  @Test
  void remoteParentSpan_isShownWithoutParentId() {
    SpanContext remote =
        SpanContext.createFromRemoteParent(
            "4bf92f3577b34da6a3ce929d0e0e4736",
            "00f067aa0ba902b7",
            TraceFlags.getSampled(),
            TraceState.getDefault());
    try (Scope s = Context.root().with(Span.wrap(remote)).makeCurrent()) {
      assertThat(MDC.get(TraceletMdc.TRACE_ID)).isEqualTo(remote.getTraceId());
      assertThat(MDC.get(TraceletMdc.SPAN_ID)).isEqualTo(remote.getSpanId());
      assertThat(MDC.get(TraceletMdc.PARENT_SPAN_ID)).isNull();
      try (SpanScope child = spans.start("child")) {
        assertThat(MDC.get(TraceletMdc.PARENT_SPAN_ID)).isEqualTo(remote.getSpanId());
      }
    }
  }

  @Test
  void closingTwice_restoresOnce() {
    SpanScope outer = spans.start("outer");
    Scope inner = Context.current().with(RequestId.of("r")).makeCurrent();
    inner.close();
    MDC.put("after", "x");
    inner.close();
    assertThat(mdc()).containsKey("after").doesNotContainKey(TraceletMdc.REQUEST_ID);
    outer.close();
    MDC.remove("after");
  }

  @Test
  void pooledThread_hasContextDuringTask_andEmptyMdcAfter() throws Exception {
    ExecutorService raw = Executors.newFixedThreadPool(1);
    ExecutorService pool = Context.taskWrapping(raw);
    try {
      String expectedSpan;
      Future<Map<String, String>> during;
      try (Scope r = RequestId.of("req-2").storeInContext(Context.root()).makeCurrent();
          SpanScope s = spans.start("request")) {
        expectedSpan = s.span().getSpanContext().getSpanId();
        during = pool.submit(TraceletMdcTest::mdc);
      }
      assertThat(during.get(5, TimeUnit.SECONDS))
          .containsEntry(TraceletMdc.SPAN_ID, expectedSpan)
          .containsEntry(TraceletMdc.REQUEST_ID, "req-2");
      // The same pooled thread, through the unwrapped executor: nothing left behind.
      assertThat(raw.submit(TraceletMdcTest::mdc).get(5, TimeUnit.SECONDS)).isEmpty();
      assertThat(raw.submit(() -> Context.current() == Context.root()).get(5, TimeUnit.SECONDS))
          .isTrue();
    } finally {
      pool.shutdown();
      assertThat(pool.awaitTermination(5, TimeUnit.SECONDS)).isTrue();
    }
  }
}
