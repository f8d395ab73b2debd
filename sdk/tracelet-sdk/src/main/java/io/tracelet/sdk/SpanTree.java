package io.tracelet.sdk;

import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.context.Context;
import io.opentelemetry.sdk.trace.ReadWriteSpan;
import io.opentelemetry.sdk.trace.ReadableSpan;
import io.opentelemetry.sdk.trace.SpanProcessor;
import io.opentelemetry.sdk.trace.data.SpanData;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An OpenTelemetry {@link SpanProcessor} that, when a local root span (one without a parent, or
 * with a remote parent: usually the request) ends, logs one multi-line entry drawing that request's
 * spans as a tree, to logger {@value #LOGGER_NAME} at INFO:
 *
 * <pre>
 * span tree trace=4bf92f3577b34da6a3ce929d0e0e4736 root='GET /orders' spans=3 duration=50.123ms
 *     +0.000ms     50.123ms UNSET  GET /orders
 *     +1.002ms     10.000ms OK     +- validateOrder
 *    +12.000ms    >38.123ms open   `- sendEmail
 * </pre>
 *
 * <p>Columns: offset from the request start, duration, status, name. Bounds and threads:
 *
 * <ul>
 *   <li>At most {@code maxSpansPerTree} spans per tree (default 256, root included); later spans
 *       are counted and shown as "... N more spans not recorded".
 *   <li>At most {@code maxTracesInFlight} requests are tracked at once (default 1024). A request
 *       started beyond that is not drawn. Nothing is retained once the root ends; a root that never
 *       ends stays until the limit is reached, and is then evicted once it is older than {@code
 *       maxRootAge} (default 10 minutes).
 *   <li>Children may end on any thread. A child still open when its root ends is drawn as {@code
 *       open} with the time it had run so far; when it ends later, one {@code span late} line with
 *       its IDs and duration is logged instead of a second tree.
 * </ul>
 *
 * <p>Recording happens only while the logger is enabled for INFO. Spans of a trace are grouped by
 * trace ID: when one trace enters the process twice at once (two local roots), each root's tree
 * shows the spans recorded so far for the trace.
 */
public final class SpanTree implements SpanProcessor {

  /** The logger trees are written to. */
  public static final String LOGGER_NAME = "io.tracelet.spantree";

  private final int maxSpansPerTree;
  private final int maxTracesInFlight;
  private final long maxRootAgeNanos;
  private final Logger logger = LoggerFactory.getLogger(LOGGER_NAME);
  private final ConcurrentHashMap<String, Trace> traces = new ConcurrentHashMap<>();
  private final AtomicLong droppedTraces = new AtomicLong();

  private SpanTree(Builder builder) {
    this.maxSpansPerTree = builder.maxSpansPerTree;
    this.maxTracesInFlight = builder.maxTracesInFlight;
    this.maxRootAgeNanos = builder.maxRootAgeNanos;
  }

  /** A span tree with the default limits. */
  public static SpanTree create() {
    return builder().build();
  }

  /** A builder for a span tree with other limits. */
  public static Builder builder() {
    return new Builder();
  }

  /** How many requests were not drawn because {@code maxTracesInFlight} was reached. */
  public long droppedTraces() {
    return droppedTraces.get();
  }

  /** How many requests are being recorded now (for tests and metrics). */
  public int tracesInFlight() {
    return traces.size();
  }

  @Override
  public boolean isStartRequired() {
    return true;
  }

  @Override
  public void onStart(Context parentContext, ReadWriteSpan span) {
    if (!logger.isInfoEnabled()) {
      return;
    }
    String traceId = span.getSpanContext().getTraceId();
    if (isLocalRoot(span)) {
      Trace trace = traces.get(traceId);
      if (trace == null) {
        if (traces.size() >= maxTracesInFlight && !evictStale()) {
          droppedTraces.incrementAndGet();
          return;
        }
        trace = traces.computeIfAbsent(traceId, id -> new Trace(System.nanoTime()));
      }
      trace.add(span, maxSpansPerTree, true);
    } else {
      Trace trace = traces.get(traceId);
      if (trace != null) {
        trace.add(span, maxSpansPerTree, false);
      }
    }
  }

  @Override
  public boolean isEndRequired() {
    return true;
  }

  @Override
  public void onEnd(ReadableSpan span) {
    String traceId = span.getSpanContext().getTraceId();
    Trace trace = traces.get(traceId);
    if (isLocalRoot(span)) {
      if (trace == null) {
        return;
      }
      List<ReadableSpan> spans;
      int dropped;
      synchronized (trace) {
        spans = new ArrayList<>(trace.spans);
        dropped = trace.dropped;
        if (--trace.openRoots == 0) {
          traces.remove(traceId, trace);
          trace.closed = true;
        }
      }
      if (logger.isInfoEnabled()) {
        logger.info(SpanTreeRenderer.render(traceId, nodes(span, spans), dropped, maxSpansPerTree));
      }
    } else if (trace == null && logger.isInfoEnabled()) {
      logLate(span);
    }
  }

  private static boolean isLocalRoot(ReadableSpan span) {
    SpanContext parent = span.getParentSpanContext();
    return !parent.isValid() || parent.isRemote();
  }

  // The root first, then every other recorded span, as immutable snapshots.
  private static List<SpanTreeRenderer.Node> nodes(ReadableSpan root, List<ReadableSpan> spans) {
    List<SpanTreeRenderer.Node> nodes = new ArrayList<>(spans.size());
    nodes.add(node(root));
    for (ReadableSpan s : spans) {
      if (s != root) {
        nodes.add(node(s));
      }
    }
    return nodes;
  }

  private static SpanTreeRenderer.Node node(ReadableSpan span) {
    SpanData data = span.toSpanData();
    return new SpanTreeRenderer.Node(
        data.getSpanId(),
        data.getParentSpanContext().isValid() ? data.getParentSpanId() : "",
        data.getName(),
        data.getStartEpochNanos(),
        data.hasEnded() ? data.getEndEpochNanos() : -1,
        data.getStatus().getStatusCode().name());
  }

  private void logLate(ReadableSpan span) {
    StringBuilder line =
        SpanText.head("late", span.getSpanContext(), span.getParentSpanContext(), span.getName())
            .append(" duration=");
    SpanText.appendMillis(line, span.getLatencyNanos())
        .append(" (ended after its request's tree was logged, or its request was not recorded)");
    logger.info(line.toString());
  }

  // Called when full: drops traces whose root is older than maxRootAge (a root that never ended).
  private boolean evictStale() {
    long now = System.nanoTime();
    traces.values().removeIf(t -> now - t.createdNanos > maxRootAgeNanos);
    return traces.size() < maxTracesInFlight;
  }

  /** The recorded spans of one trace; guarded by its own lock. */
  private static final class Trace {
    final long createdNanos;
    final List<ReadableSpan> spans = new ArrayList<>();
    int dropped;
    int openRoots;
    boolean closed;

    Trace(long createdNanos) {
      this.createdNanos = createdNanos;
    }

    synchronized void add(ReadableSpan span, int max, boolean root) {
      if (closed) {
        return;
      }
      if (root) {
        openRoots++;
      }
      if (spans.size() < max) {
        spans.add(span);
      } else {
        dropped++;
      }
    }
  }

  /** Limits of a {@link SpanTree}. */
  public static final class Builder {
    private int maxSpansPerTree = 256;
    private int maxTracesInFlight = 1024;
    private long maxRootAgeNanos = java.time.Duration.ofMinutes(10).toNanos();

    private Builder() {}

    /** The most spans drawn per tree, root included (default 256). */
    public Builder setMaxSpansPerTree(int max) {
      if (max < 1) {
        throw new IllegalArgumentException("maxSpansPerTree must be at least 1, got " + max);
      }
      this.maxSpansPerTree = max;
      return this;
    }

    /** The most requests recorded at the same time (default 1024). */
    public Builder setMaxTracesInFlight(int max) {
      if (max < 1) {
        throw new IllegalArgumentException("maxTracesInFlight must be at least 1, got " + max);
      }
      this.maxTracesInFlight = max;
      return this;
    }

    /** How old a never-ending root must be before it can be evicted (default 10 minutes). */
    public Builder setMaxRootAge(java.time.Duration age) {
      if (age == null || age.isNegative()) {
        throw new IllegalArgumentException("maxRootAge must be a non-negative duration");
      }
      this.maxRootAgeNanos = age.toNanos();
      return this;
    }

    /** The span tree processor. */
    public SpanTree build() {
      return new SpanTree(this);
    }
  }
}
