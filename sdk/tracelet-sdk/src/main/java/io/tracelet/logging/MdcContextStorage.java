package io.tracelet.logging;

import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.ContextStorage;
import io.opentelemetry.context.Scope;
import io.opentelemetry.sdk.trace.ReadableSpan;
import io.tracelet.RequestId;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.MDC;

/**
 * Context storage that mirrors the attached context into the MDC and puts the previous MDC values
 * back when the scope closes.
 *
 * <p>Why it only compares with the previous context instead of reading the MDC: every attach in the
 * process goes through this storage, so the MDC already holds the previous context's values. A
 * scope whose span and request ID equal the previous context's (baggage or other values added, the
 * same context attached again) does no MDC work and allocates nothing; otherwise only the keys that
 * change are saved and written. The ID strings are the ones the span context already holds.
 */
final class MdcContextStorage implements ContextStorage {

  // Whether one exists in this class loader: keeps install() and the service provider from
  // wrapping twice. Set once, never cleared.
  private static final AtomicBoolean CREATED = new AtomicBoolean();

  private static final int TRACE = 1;
  private static final int SPAN = 2;
  private static final int REQUEST = 4;

  private final ContextStorage delegate;

  private MdcContextStorage(ContextStorage delegate) {
    this.delegate = delegate;
  }

  static ContextStorage wrapOnce(ContextStorage delegate) {
    if (!CREATED.compareAndSet(false, true)) {
      return delegate;
    }
    return new MdcContextStorage(delegate);
  }

  static boolean isCreated() {
    return CREATED.get();
  }

  @Override
  public Scope attach(Context toAttach) {
    Context previous = delegate.current();
    Scope scope = delegate.attach(toAttach);
    if (toAttach == null || toAttach == previous) {
      return scope;
    }
    if (previous == null) {
      previous = delegate.root();
    }
    Span span = Span.fromContext(toAttach);
    Span previousSpan = Span.fromContext(previous);
    SpanContext sc = span.getSpanContext();
    SpanContext previousSc = previousSpan.getSpanContext();
    int changed = 0;
    if (span != previousSpan) {
      if (!sc.getTraceId().equals(previousSc.getTraceId())) {
        changed |= TRACE;
      }
      if (!sc.getSpanId().equals(previousSc.getSpanId()) || changed != 0) {
        changed |= SPAN;
      }
    }
    RequestId requestId = RequestId.fromContext(toAttach);
    if (!Objects.equals(requestId, RequestId.fromContext(previous))) {
      changed |= REQUEST;
    }
    if (changed == 0) {
      return scope;
    }
    MdcScope mdcScope = new MdcScope(scope, changed);
    if ((changed & TRACE) != 0) {
      mdcScope.traceId = swap(TraceletMdc.TRACE_ID, sc.isValid() ? sc.getTraceId() : null);
    }
    if ((changed & SPAN) != 0) {
      mdcScope.spanId = swap(TraceletMdc.SPAN_ID, sc.isValid() ? sc.getSpanId() : null);
      mdcScope.parentSpanId = swap(TraceletMdc.PARENT_SPAN_ID, parentSpanId(span));
    }
    if ((changed & REQUEST) != 0) {
      mdcScope.requestId =
          swap(TraceletMdc.REQUEST_ID, requestId == null ? null : requestId.value());
    }
    return mdcScope;
  }

  private static String parentSpanId(Span span) {
    if (span instanceof ReadableSpan) {
      SpanContext parent = ((ReadableSpan) span).getParentSpanContext();
      return parent.isValid() ? parent.getSpanId() : null;
    }
    return null;
  }

  /** Sets {@code key} to {@code value} (removes it for null) and returns the previous value. */
  private static String swap(String key, String value) {
    String old = MDC.get(key);
    set(key, value);
    return old;
  }

  private static void set(String key, String value) {
    if (value == null) {
      MDC.remove(key);
    } else {
      MDC.put(key, value);
    }
  }

  @Override
  public Context current() {
    return delegate.current();
  }

  @Override
  public Context root() {
    return delegate.root();
  }

  private static final class MdcScope implements Scope {
    private final Scope delegate;
    private final int changed;
    private String traceId;
    private String spanId;
    private String parentSpanId;
    private String requestId;
    private boolean closed;

    MdcScope(Scope delegate, int changed) {
      this.delegate = delegate;
      this.changed = changed;
    }

    @Override
    public void close() {
      if (closed) {
        return;
      }
      closed = true;
      try {
        delegate.close();
      } finally {
        // Restored even if the delegate complains (e.g. strict context checking), so the MDC
        // always matches the context the delegate put back.
        if ((changed & TRACE) != 0) {
          set(TraceletMdc.TRACE_ID, traceId);
        }
        if ((changed & SPAN) != 0) {
          set(TraceletMdc.SPAN_ID, spanId);
          set(TraceletMdc.PARENT_SPAN_ID, parentSpanId);
        }
        if ((changed & REQUEST) != 0) {
          set(TraceletMdc.REQUEST_ID, requestId);
        }
      }
    }
  }
}
