package io.tracelet.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.ContextKey;
import io.opentelemetry.context.propagation.TextMapPropagator;
import org.junit.jupiter.api.Test;

class OutboundPropagationTest {

  private final TextMapPropagator propagator = W3CTraceContextPropagator.getInstance();

  @Test
  void storedPropagator_isReadBack_andTheOriginalContextIsUnchanged() {
    Context root = Context.root();
    Context request = OutboundPropagation.storeInContext(root, propagator);

    assertThat(OutboundPropagation.fromContext(request)).isSameAs(propagator);
    assertThat(OutboundPropagation.fromContext(root)).isNull();
    assertThat(OutboundPropagation.fromContext(null)).isNull();
  }

  @Test
  void aKeyOfTheSameName_fromAnotherLibrary_neitherReadsNorReplacesIt() {
    ContextKey<TextMapPropagator> lookalike = ContextKey.named("tracelet.outbound-propagator");
    Context request = OutboundPropagation.storeInContext(Context.root(), propagator);

    assertThat(request.get(lookalike)).isNull();
    Context overwritten = request.with(lookalike, TextMapPropagator.noop());
    assertThat(OutboundPropagation.fromContext(overwritten)).isSameAs(propagator);
  }

  @Test
  void nulls_areRefusedWithTheirName() {
    assertThatThrownBy(() -> OutboundPropagation.storeInContext(null, propagator))
        .isInstanceOf(NullPointerException.class)
        .hasMessage("context");
    assertThatThrownBy(() -> OutboundPropagation.storeInContext(Context.root(), null))
        .isInstanceOf(NullPointerException.class)
        .hasMessage("propagator");
  }
}
