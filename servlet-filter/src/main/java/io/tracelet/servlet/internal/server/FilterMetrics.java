package io.tracelet.servlet.internal.server;

import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.metrics.LongCounter;
import io.opentelemetry.api.metrics.Meter;
import io.tracelet.servlet.internal.propagation.IsolatedPropagator;
import io.tracelet.servlet.internal.propagation.IsolatedPropagator.Operation;

/**
 * The filter's counters, which show which path each request took. They come from the configured
 * OpenTelemetry's meter provider (a no-op when it has none). Every attribute set is built once
 * here, so counting costs no allocation per request.
 *
 * <ul>
 *   <li>{@code tracelet.server.incoming_context}, by {@code tracelet.outcome}: how the server span
 *       got its parent.
 *   <li>{@code tracelet.server.rejected_input}, by {@code tracelet.input}: incoming values that
 *       were present but not used.
 *   <li>{@code tracelet.propagator.failures}, by {@code tracelet.operation}: a propagator that
 *       threw, isolated by {@link IsolatedPropagator}.
 * </ul>
 */
public final class FilterMetrics implements IsolatedPropagator.FailureCounter {

  /** The instrumentation scope of the counters (the same as the server span's). */
  static final String SCOPE = ServerTracing.INSTRUMENTATION_NAME;

  static final AttributeKey<String> OUTCOME = AttributeKey.stringKey("tracelet.outcome");
  static final AttributeKey<String> INPUT = AttributeKey.stringKey("tracelet.input");
  static final AttributeKey<String> OPERATION = AttributeKey.stringKey("tracelet.operation");

  /** How the server span got its parent. */
  public enum Incoming {
    /** No trace header at all: a new trace. */
    NEW_TRACE("new_trace"),
    /** A valid incoming context (W3C, B3, Jaeger, ...) is the parent. */
    CONTINUED("continued"),
    /** Only the Go middleware's {@code X-Trace-ID} was valid: it is the parent. */
    X_TRACE_ID("x_trace_id"),
    /** A trace header was present but unusable: a new trace. */
    INVALID("invalid"),
    /** {@code trust-incoming} is off: a valid incoming context became a link of a new trace. */
    LINKED("linked"),
    /**
     * An outer instrumentation of the request (the OpenTelemetry Java agent) already made its span
     * current: the filter joined it, and the trace decisions were the outer's.
     */
    JOINED("joined");

    final String value;

    Incoming(String value) {
      this.value = value;
    }
  }

  /** An incoming value that was present but not used. */
  public enum Rejected {
    /** {@code tracestate} dropped while its {@code traceparent} was kept. */
    TRACESTATE("tracestate"),
    /** {@code baggage} sent but none of it reached the context. */
    BAGGAGE("baggage"),
    /** The request ID header was invalid and replaced by a generated ID. */
    REQUEST_ID("request_id");

    final String value;

    Rejected(String value) {
      this.value = value;
    }
  }

  private final LongCounter incoming;
  private final LongCounter rejected;
  private final LongCounter propagatorFailures;
  private final Attributes[] incomingAttributes;
  private final Attributes[] rejectedAttributes;
  private final Attributes[] operationAttributes;

  /** The counters of {@code openTelemetry}'s meter provider. */
  public FilterMetrics(OpenTelemetry openTelemetry) {
    Meter meter = openTelemetry.getMeter(SCOPE);
    incoming =
        meter
            .counterBuilder("tracelet.server.incoming_context")
            .setDescription("Requests by how their server span got its parent")
            .setUnit("{request}")
            .build();
    rejected =
        meter
            .counterBuilder("tracelet.server.rejected_input")
            .setDescription("Incoming tracestate, baggage or request IDs present but not used")
            .setUnit("{request}")
            .build();
    propagatorFailures =
        meter
            .counterBuilder("tracelet.propagator.failures")
            .setDescription("Propagator calls that threw and were isolated")
            .setUnit("{call}")
            .build();
    incomingAttributes = new Attributes[Incoming.values().length];
    for (Incoming i : Incoming.values()) {
      incomingAttributes[i.ordinal()] = Attributes.of(OUTCOME, i.value);
    }
    rejectedAttributes = new Attributes[Rejected.values().length];
    for (Rejected r : Rejected.values()) {
      rejectedAttributes[r.ordinal()] = Attributes.of(INPUT, r.value);
    }
    operationAttributes = new Attributes[Operation.values().length];
    for (Operation o : Operation.values()) {
      operationAttributes[o.ordinal()] = Attributes.of(OPERATION, o.value);
    }
  }

  void incoming(Incoming outcome) {
    incoming.add(1, incomingAttributes[outcome.ordinal()]);
  }

  void rejected(Rejected input) {
    rejected.add(1, rejectedAttributes[input.ordinal()]);
  }

  @Override
  public void propagatorFailed(Operation operation) {
    propagatorFailures.add(1, operationAttributes[operation.ordinal()]);
  }
}
