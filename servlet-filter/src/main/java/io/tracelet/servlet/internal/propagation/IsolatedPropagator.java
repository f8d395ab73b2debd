package io.tracelet.servlet.internal.propagation;

import io.opentelemetry.context.Context;
import io.opentelemetry.context.propagation.TextMapGetter;
import io.opentelemetry.context.propagation.TextMapPropagator;
import io.opentelemetry.context.propagation.TextMapSetter;
import io.tracelet.servlet.internal.Failures;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs several propagators in order like {@link TextMapPropagator#composite}, but a propagator that
 * throws is skipped instead of ending the chain: the others still run, the request goes on, the
 * failure is counted ({@code tracelet.propagator.failures}) and logged at most once a minute.
 *
 * <p>What is isolated: {@link RuntimeException}, and {@link StackOverflowError}. A stack overflow
 * in a header parser is caused by the input (deep recursion over an attacker's value), and by the
 * time it reaches this frame the stack has unwound, so the thread is healthy again. Every other
 * {@link Error} is rethrown unchanged: an {@link OutOfMemoryError} or {@link InternalError} says
 * the JVM itself is in trouble, and a {@link LinkageError} is a broken deployment; swallowing them
 * on every request would hide the problem behind a counter while the service degrades.
 *
 * <p>A composite built elsewhere (for example {@code OpenTelemetrySdk}'s propagators) is one part
 * here: OpenTelemetry does not expose its members, so a member that throws also skips the members
 * after it inside that composite. List propagators by name ({@code propagators}) to isolate each.
 */
public final class IsolatedPropagator implements TextMapPropagator {

  /** What a failing propagator was doing. */
  public enum Operation {
    EXTRACT("extract"),
    INJECT("inject");

    /** The value of the {@code tracelet.operation} attribute. */
    public final String value;

    Operation(String value) {
      this.value = value;
    }
  }

  /** Counts the calls that threw (the filter counts them as a metric). */
  @FunctionalInterface
  public interface FailureCounter {
    /** Counts nothing, for a propagator wrapped outside a filter. */
    FailureCounter NONE = operation -> {};

    /** One call threw during {@code operation}. */
    void propagatorFailed(Operation operation);
  }

  private static final Logger log = LoggerFactory.getLogger(IsolatedPropagator.class);
  private static final long LOG_INTERVAL_NANOS = TimeUnit.MINUTES.toNanos(1);

  private final TextMapPropagator[] parts;
  private final Collection<String> fields;
  private final FailureCounter metrics;
  private final LongAdder failures = new LongAdder();
  // Long.MIN_VALUE: nothing logged yet, so the first failure is logged at once.
  private final AtomicLong lastLogNanos = new AtomicLong(Long.MIN_VALUE);

  private IsolatedPropagator(List<TextMapPropagator> parts, FailureCounter metrics) {
    this.parts = parts.toArray(new TextMapPropagator[0]);
    LinkedHashSet<String> all = new LinkedHashSet<>();
    for (TextMapPropagator p : parts) {
      all.addAll(p.fields());
    }
    this.fields = Collections.unmodifiableList(new ArrayList<>(all));
    this.metrics = metrics;
  }

  /** Runs {@code parts} in order, each isolated from the others' failures. */
  public static IsolatedPropagator of(List<TextMapPropagator> parts, FailureCounter metrics) {
    List<TextMapPropagator> flat = new ArrayList<>();
    for (TextMapPropagator p : parts) {
      if (p instanceof IsolatedPropagator isolated) {
        Collections.addAll(flat, isolated.parts);
      } else {
        flat.add(p);
      }
    }
    return new IsolatedPropagator(flat, metrics);
  }

  /** {@code propagator} unchanged if already isolated, else isolated as one part. */
  public static IsolatedPropagator wrap(TextMapPropagator propagator, FailureCounter metrics) {
    if (propagator instanceof IsolatedPropagator isolated) {
      return isolated;
    }
    return new IsolatedPropagator(List.of(propagator), metrics);
  }

  /** How many propagator calls threw (and were skipped). */
  public long failureCount() {
    return failures.sum();
  }

  @Override
  public Collection<String> fields() {
    return fields;
  }

  @Override
  public <C> void inject(Context context, C carrier, TextMapSetter<C> setter) {
    for (TextMapPropagator p : parts) {
      try {
        p.inject(context, carrier, setter);
      } catch (RuntimeException | StackOverflowError e) {
        failed(p, Operation.INJECT, e);
      }
    }
  }

  @Override
  public <C> Context extract(Context context, C carrier, TextMapGetter<C> getter) {
    Context result = context;
    for (TextMapPropagator p : parts) {
      try {
        Context next = p.extract(result, carrier, getter);
        if (next != null) {
          result = next;
        }
      } catch (RuntimeException | StackOverflowError e) {
        failed(p, Operation.EXTRACT, e);
      }
    }
    return result;
  }

  private void failed(TextMapPropagator p, Operation operation, Throwable e) {
    failures.increment();
    metrics.propagatorFailed(operation);
    long now = System.nanoTime();
    long last = lastLogNanos.get();
    if ((last == Long.MIN_VALUE || now - last >= LOG_INTERVAL_NANOS)
        && lastLogNanos.compareAndSet(last, now)) {
      // Only class names and the throwing frame: the exception's message may quote the header
      // that caused it, and raw header values never reach our log lines.
      log.warn(
          "Tracelet: propagator {} threw {} during {}; it was skipped and the request"
              + " continues (failures so far: {}; logged at most once a minute, counted in"
              + " tracelet.propagator.failures)",
          p.getClass().getName(),
          Failures.describe(e),
          operation.value,
          failures.sum());
    }
  }

  @Override
  public String toString() {
    return "IsolatedPropagator" + List.of(parts);
  }
}
