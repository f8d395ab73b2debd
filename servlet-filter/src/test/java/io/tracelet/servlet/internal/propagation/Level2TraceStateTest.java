package io.tracelet.servlet.internal.propagation;

import static org.assertj.core.api.Assertions.assertThat;

import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.TraceFlags;
import io.opentelemetry.api.trace.TraceState;
import java.util.Map;
import org.junit.jupiter.api.Test;

class Level2TraceStateTest {

  static final String T = "4bf92f3577b34da6a3ce929d0e0e4736";
  static final String P = "00f067aa0ba902b7";
  static final String TP = "00-" + T + "-" + P + "-01";

  static SpanContext parent(TraceState state) {
    return SpanContext.createFromRemoteParent(T, P, TraceFlags.getSampled(), state);
  }

  @Test
  void level2Keys_areRestored_inOrder_withTheParentsIds() {
    SpanContext restored =
        Level2TraceState.restore(
            parent(TraceState.getDefault()),
            TestHeaders.of("traceparent", TP, "tracestate", "1foo=1,a=2", "tracestate", "x@=3"));
    assertThat(restored.getTraceId()).isEqualTo(T);
    assertThat(restored.getSpanId()).isEqualTo(P);
    assertThat(restored.isRemote()).isTrue();
    assertThat(restored.isSampled()).isTrue();
    TraceState ts = restored.getTraceState();
    assertThat(ts.asMap())
        .containsExactly(Map.entry("1foo", "1"), Map.entry("a", "2"), Map.entry("x@", "3"));
    assertThat(ts.size()).isEqualTo(3);
    assertThat(ts.get("a")).isEqualTo("2");
    assertThat(ts.get("b")).isNull();
  }

  @Test
  void nothingToRestore_returnsTheSameContext() {
    SpanContext kept = parent(TraceState.builder().put("a", "1").build());
    assertThat(
            Level2TraceState.restore(
                kept, TestHeaders.of("traceparent", TP, "tracestate", "1foo=1")))
        .isSameAs(kept);
    SpanContext empty = parent(TraceState.getDefault());
    assertThat(Level2TraceState.restore(empty, TestHeaders.of("traceparent", TP))).isSameAs(empty);
    assertThat(
            Level2TraceState.restore(empty, TestHeaders.of("traceparent", TP, "tracestate", "A=1")))
        .as("invalid under Level 2 too")
        .isSameAs(empty);
    assertThat(
            Level2TraceState.restore(
                empty,
                TestHeaders.of(
                    "traceparent", "00-" + T + "-1111111111111111-01", "tracestate", "1foo=1")))
        .as("a parent that is not this traceparent's")
        .isSameAs(empty);
    assertThat(
            Level2TraceState.restore(
                SpanContext.getInvalid(), TestHeaders.of("tracestate", "1foo=1")))
        .isSameAs(SpanContext.getInvalid());
  }

  @Test
  void toBuilder_givesOpenTelemetrysRules_backForASampler() {
    TraceState ts =
        Level2TraceState.restore(
                parent(TraceState.getDefault()),
                TestHeaders.of("traceparent", TP, "tracestate", "a=1,1foo=2,b=3"))
            .getTraceState();
    TraceState edited = ts.toBuilder().put("ot", "th:8").build();
    assertThat(edited.asMap())
        .containsExactly(Map.entry("ot", "th:8"), Map.entry("a", "1"), Map.entry("b", "3"));
  }

  @Test
  void equalLists_areEqual() {
    TraceState a =
        Level2TraceState.restore(
                parent(TraceState.getDefault()),
                TestHeaders.of("traceparent", TP, "tracestate", "1a=1"))
            .getTraceState();
    TraceState b =
        Level2TraceState.restore(
                parent(TraceState.getDefault()),
                TestHeaders.of("traceparent", TP, "tracestate", "1a=1"))
            .getTraceState();
    assertThat(a).isEqualTo(b).hasSameHashCodeAs(b);
    assertThat(a.toString()).contains("1a=1");
  }
}
