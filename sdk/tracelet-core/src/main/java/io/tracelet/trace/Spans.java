package io.tracelet.trace;

import io.opentelemetry.api.GlobalOpenTelemetry;
import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Context;
import java.util.Objects;
import java.util.concurrent.Callable;

/**
 * Starts spans as try-with-resources handles, on the {@link Tracer} of an {@link OpenTelemetry}:
 * the global one ({@link #global()}, which also works under the OpenTelemetry Java agent) or one
 * passed in.
 *
 * <pre>{@code
 * private static final Spans spans = Spans.global();
 *
 * try (SpanScope s = spans.start("validateOrder")) {
 *   validate(order);
 * }
 * // run/call record an exception on the span (status ERROR) and rethrow it unchanged
 * Order saved = spans.call("saveOrder", () -> repository.save(order));
 * }</pre>
 */
public final class Spans {

  /** The instrumentation scope name of spans started here. */
  public static final String INSTRUMENTATION_NAME = "io.tracelet";

  private static final Spans GLOBAL = new Spans(null);

  // Null for the global instance, which resolves its tracer per call (see tracer()).
  private final Tracer fixedTracer;

  // Global instance only: the OpenTelemetry the cached tracer came from, and the tracer.
  private volatile GlobalTracer globalTracer;

  private Spans(Tracer fixedTracer) {
    this.fixedTracer = fixedTracer;
  }

  /**
   * Spans on {@link GlobalOpenTelemetry}. Until a global is set this starts no-op spans, and it
   * never sets the global itself, so calling it early cannot block a later {@code
   * GlobalOpenTelemetry.set(..)} (by {@code io.tracelet.sdk.TraceletOpenTelemetry} or the Java
   * agent).
   */
  public static Spans global() {
    return GLOBAL;
  }

  /** Spans on the tracer {@code "io.tracelet"} of {@code openTelemetry}. */
  public static Spans create(OpenTelemetry openTelemetry) {
    Objects.requireNonNull(openTelemetry, "openTelemetry");
    return new Spans(openTelemetry.getTracer(INSTRUMENTATION_NAME));
  }

  /** The tracer spans are started on. */
  public Tracer tracer() {
    if (fixedTracer != null) {
      return fixedTracer;
    }
    if (!GlobalOpenTelemetry.isSet()) {
      return OpenTelemetry.noop().getTracer(INSTRUMENTATION_NAME);
    }
    OpenTelemetry global = GlobalOpenTelemetry.get();
    GlobalTracer cached = globalTracer;
    if (cached == null || cached.openTelemetry != global) {
      // A racing thread may compute the same tracer; both results are equivalent.
      cached = new GlobalTracer(global, global.getTracer(INSTRUMENTATION_NAME));
      globalTracer = cached;
    }
    return cached.tracer;
  }

  /** Starts an internal span as a child of the current context and makes it current. */
  public SpanScope start(String name) {
    return start(Context.current(), name, SpanKind.INTERNAL, null);
  }

  /** Starts a span of {@code kind} as a child of the current context and makes it current. */
  public SpanScope start(String name, SpanKind kind) {
    return start(Context.current(), name, kind, null);
  }

  /** Starts an internal span as a child of {@code parent} and makes it current. */
  public SpanScope start(Context parent, String name) {
    return start(parent, name, SpanKind.INTERNAL, null);
  }

  /**
   * Starts a span as a child of {@code parent} and makes it current.
   *
   * @param attributes set on the span before it starts (visible to samplers); may be null
   */
  public SpanScope start(Context parent, String name, SpanKind kind, Attributes attributes) {
    Objects.requireNonNull(parent, "parent");
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(kind, "kind");
    var builder = tracer().spanBuilder(name).setParent(parent).setSpanKind(kind);
    if (attributes != null) {
      builder.setAllAttributes(attributes);
    }
    Span span = builder.startSpan();
    Context context = parent.with(span);
    return new SpanScope(span, context, context.makeCurrent());
  }

  /**
   * Runs {@code work} in a new current span. An exception is recorded on the span and rethrown
   * unchanged.
   */
  public void run(String name, Runnable work) {
    SpanScope scope = start(name);
    try {
      work.run();
    } catch (Throwable t) {
      scope.recordFailure(t);
      throw t;
    } finally {
      scope.close();
    }
  }

  /**
   * Calls {@code work} in a new current span and returns its result. An exception, checked or not,
   * is recorded on the span and rethrown unchanged.
   */
  public <T> T call(String name, Callable<T> work) throws Exception {
    SpanScope scope = start(name);
    try {
      return work.call();
    } catch (Throwable t) {
      scope.recordFailure(t);
      throw t;
    } finally {
      scope.close();
    }
  }

  private static final class GlobalTracer {
    final OpenTelemetry openTelemetry;
    final Tracer tracer;

    GlobalTracer(OpenTelemetry openTelemetry, Tracer tracer) {
      this.openTelemetry = openTelemetry;
      this.tracer = tracer;
    }
  }
}
