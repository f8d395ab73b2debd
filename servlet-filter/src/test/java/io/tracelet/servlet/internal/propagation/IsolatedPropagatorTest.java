package io.tracelet.servlet.internal.propagation;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.propagation.TextMapGetter;
import io.opentelemetry.context.propagation.TextMapPropagator;
import io.opentelemetry.context.propagation.TextMapSetter;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/** What {@link IsolatedPropagator} isolates and what it lets through. */
class IsolatedPropagatorTest {

  static final String TP = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

  static TextMapPropagator throwing(Supplier<Throwable> failure) {
    return new TextMapPropagator() {
      @Override
      public Collection<String> fields() {
        return List.of("x");
      }

      @Override
      public <C> void inject(Context context, C carrier, TextMapSetter<C> setter) {
        sneaky(failure.get());
      }

      @Override
      public <C> Context extract(Context context, C carrier, TextMapGetter<C> getter) {
        sneaky(failure.get());
        return context;
      }
    };
  }

  @SuppressWarnings("unchecked")
  private static <T extends Throwable> void sneaky(Throwable t) throws T {
    throw (T) t;
  }

  private static IsolatedPropagator isolated(Supplier<Throwable> failure) {
    return IsolatedPropagator.of(
        List.of(throwing(failure), W3CTraceContextPropagator.getInstance()),
        IsolatedPropagator.FailureCounter.NONE);
  }

  @Test
  void runtimeExceptionAndStackOverflow_areSkipped_theNextPartStillRuns() {
    for (Supplier<Throwable> f :
        List.<Supplier<Throwable>>of(IllegalStateException::new, StackOverflowError::new)) {
      IsolatedPropagator p = isolated(f);
      Context c =
          p.extract(Context.root(), TestHeaders.of("traceparent", TP), IncomingGetter.INSTANCE);
      assertThat(Span.fromContext(c).getSpanContext().isValid()).isTrue();
      Map<String, String> out = new HashMap<>();
      p.inject(c, out, Map::put);
      assertThat(out).containsEntry("traceparent", TP);
      assertThat(p.failureCount()).isEqualTo(2);
    }
  }

  @Test
  void otherErrors_areRethrownUnchanged() {
    for (Supplier<Throwable> f :
        List.<Supplier<Throwable>>of(
            () -> new OutOfMemoryError("test"),
            () -> new InternalError("test"),
            () -> new NoClassDefFoundError("test"),
            () -> new AssertionError("test"))) {
      Throwable expected = f.get();
      IsolatedPropagator p = isolated(() -> expected);
      assertThatThrownBy(() -> p.extract(Context.root(), TestHeaders.of(), IncomingGetter.INSTANCE))
          .isSameAs(expected);
      assertThatThrownBy(() -> p.inject(Context.root(), new HashMap<String, String>(), Map::put))
          .isSameAs(expected);
    }
  }

  @Test
  void nestedIsolatedPropagators_areFlattened_fieldsInOrder() {
    IsolatedPropagator inner =
        IsolatedPropagator.of(
            List.of(W3CTraceContextPropagator.getInstance()),
            IsolatedPropagator.FailureCounter.NONE);
    IsolatedPropagator outer =
        IsolatedPropagator.of(
            List.of(throwing(IllegalStateException::new), inner),
            IsolatedPropagator.FailureCounter.NONE);
    assertThat(outer.fields()).containsExactly("x", "traceparent", "tracestate");
    assertThat(outer.toString()).doesNotContain("IsolatedPropagator[IsolatedPropagator");
  }
}
