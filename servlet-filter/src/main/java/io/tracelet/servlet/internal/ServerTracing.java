package io.tracelet.servlet.internal;

import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.baggage.Baggage;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanBuilder;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.SpanId;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.TraceFlags;
import io.opentelemetry.api.trace.TraceId;
import io.opentelemetry.api.trace.TraceState;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.propagation.TextMapPropagator;
import io.opentelemetry.semconv.ClientAttributes;
import io.opentelemetry.semconv.HttpAttributes;
import io.opentelemetry.semconv.ServerAttributes;
import io.opentelemetry.semconv.UrlAttributes;
import io.opentelemetry.semconv.UserAgentAttributes;
import io.tracelet.CancellableContext;
import io.tracelet.DeadlineHeader;
import io.tracelet.RequestId;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The container-agnostic heart of the filter: from a request's headers and facts it builds the
 * request context (trace parent or link, request ID, baggage, deadline, server span) and the
 * response headers, and it records the outcome. The servlet filter is thin glue around it.
 */
public final class ServerTracing {

  /** The span attribute holding the request ID. */
  public static final AttributeKey<String> REQUEST_ID =
      AttributeKey.stringKey("tracelet.request_id");

  /** The Go middleware's trace ID header. */
  public static final String TRACE_ID_HEADER = "X-Trace-ID";

  static final String INSTRUMENTATION_NAME = "io.tracelet.servlet";

  private static final Logger log = LoggerFactory.getLogger(ServerTracing.class);

  private final Settings settings;
  private final Tracer tracer;
  private final TextMapPropagator propagator;
  private final HttpSemconv semconv = new HttpSemconv();
  private final FilterMetrics metrics;
  private final HttpServerMetrics httpMetrics;
  // The headers whose presence means a caller tried to send a trace (for the "invalid" outcome).
  private final String[] traceHeaders;
  private final boolean readsTracestate;
  private final boolean readsBaggage;
  private final LongAdder spanEndFailures = new LongAdder();
  private final AtomicBoolean spanEndFailureLogged = new AtomicBoolean();
  private static final Long[] STATUS_CODES = new Long[600];
  private volatile Long lastPort;

  /**
   * The core for one filter, counting with {@code openTelemetry}'s meter provider.
   *
   * @param propagator reads the incoming context; it is handed {@link IncomingGetter}
   */
  public ServerTracing(
      Settings settings, OpenTelemetry openTelemetry, TextMapPropagator propagator) {
    this(settings, openTelemetry, propagator, new FilterMetrics(openTelemetry));
  }

  /** The core for one filter, counting into {@code metrics}. */
  public ServerTracing(
      Settings settings,
      OpenTelemetry openTelemetry,
      TextMapPropagator propagator,
      FilterMetrics metrics) {
    this.settings = settings;
    this.tracer = openTelemetry.getTracer(INSTRUMENTATION_NAME);
    this.propagator = propagator;
    this.metrics = metrics;
    this.httpMetrics = new HttpServerMetrics(openTelemetry, semconv);
    List<String> trace = new ArrayList<>();
    boolean tracestate = false;
    boolean baggage = false;
    for (String field : propagator.fields()) {
      String f = field.toLowerCase(Locale.ROOT);
      tracestate |= f.equals("tracestate");
      baggage |= f.equals("baggage");
      if (!NOT_TRACE_IDS.contains(f)) {
        trace.add(field);
      }
      if (f.equals("b3")) {
        // B3 reads both formats but names only the header it injects.
        trace.add("X-B3-TraceId");
        trace.add("X-B3-SpanId");
      }
    }
    trace.add(TRACE_ID_HEADER);
    this.traceHeaders = trace.toArray(new String[0]);
    this.readsTracestate = tracestate;
    this.readsBaggage = baggage;
  }

  // Propagator fields that carry no trace ID: sent alone they are not an attempt to join a trace.
  private static final Set<String> NOT_TRACE_IDS =
      Set.of("tracestate", "baggage", "x-b3-sampled", "x-b3-flags", "ot-tracer-sampled");

  /**
   * How many server spans could not be ended cleanly because a span processor threw from {@code
   * onEnd}; the requests were served all the same.
   */
  public long spanEndFailureCount() {
    return spanEndFailures.sum();
  }

  void spanEndFailed(RuntimeException e) {
    spanEndFailures.increment();
    // Once: a broken processor throws on every request, and a log line each would flood the log.
    if (spanEndFailureLogged.compareAndSet(false, true)) {
      // A processor's message may quote span attributes (request data); the whole exception is at
      // DEBUG.
      log.error(
          "Tracelet: a span processor threw {} while the server span ended; requests are"
              + " served regardless. Counted in TracingFilter.spanEndFailureCount(); logged once.",
          Failures.describe(e));
      log.debug("Tracelet: the span processor's exception", e);
    } else {
      log.debug("Tracelet: a span processor threw while the server span ended", e);
    }
  }

  /** The settings in force. */
  public Settings settings() {
    return settings;
  }

  /**
   * Starts a request: always from the root context, never from whatever the thread carries. The
   * caller must end the returned exchange exactly once.
   */
  public Exchange begin(RequestInfo info, HeaderSource headers) {
    return begin(info, headers, null);
  }

  /**
   * Starts a request inside {@code outer}, the context an outer instrumentation of this same
   * request made current (see {@link #isOuterRequestContext}), or from the root context when it is
   * null. Inside an outer context no second server span is started: the outer one is the request's
   * span, and its owner names it, records the outcome and ends it.
   */
  public Exchange begin(RequestInfo info, HeaderSource headers, Context outer) {
    if (outer != null) {
      return join(info, headers, outer);
    }
    Context extracted = propagator.extract(Context.root(), headers, IncomingGetter.INSTANCE);
    SpanContext incoming = Span.fromContext(extracted).getSpanContext();
    FilterMetrics.Incoming outcome = FilterMetrics.Incoming.CONTINUED;
    if (!incoming.isValid()) {
      incoming = fromTraceIdHeader(headers.first(TRACE_ID_HEADER));
      if (incoming.isValid()) {
        extracted = extracted.with(Span.wrap(incoming));
        outcome = FilterMetrics.Incoming.X_TRACE_ID;
      } else {
        outcome =
            anyPresent(headers, traceHeaders)
                ? FilterMetrics.Incoming.INVALID
                : FilterMetrics.Incoming.NEW_TRACE;
      }
    }
    Context parent;
    SpanContext link = null;
    RequestId requestId;
    Duration timeout = settings.requestTimeout;
    if (settings.trustIncoming) {
      parent = extracted;
      String incomingId = headers.first(settings.requestIdHeader);
      requestId = RequestId.parseOrGenerate(incomingId);
      timeout = min(timeout, incomingTimeout(headers));
      countRejected(headers, extracted, incoming, outcome, incomingId, requestId);
    } else {
      // Untrusted callers may not steer our trace (nor its sampling), our request ID, our
      // baggage or our deadline: their trace is kept only as a link.
      parent = Context.root();
      link = incoming.isValid() ? incoming : null;
      requestId = RequestId.generate();
      if (link != null) {
        outcome = FilterMetrics.Incoming.LINKED;
      }
    }
    metrics.incoming(outcome);

    boolean excluded = settings.excludedPaths.matches(info.pathInContext());
    Span span = Span.getInvalid();
    String semconvMethod = HttpSemconv.method(info.method());
    if (!excluded) {
      String route = semconv.admitRoute(info.route());
      SpanBuilder b =
          tracer
              .spanBuilder(semconv.cachedSpanName(semconvMethod, route))
              .setParent(parent)
              .setSpanKind(SpanKind.SERVER)
              .setAttribute(HttpAttributes.HTTP_REQUEST_METHOD, semconvMethod)
              .setAttribute(UrlAttributes.URL_PATH, info.path())
              .setAttribute(UrlAttributes.URL_SCHEME, info.scheme())
              .setAttribute(ServerAttributes.SERVER_ADDRESS, info.serverAddress())
              .setAttribute(ServerAttributes.SERVER_PORT, port(info.serverPort()))
              .setAttribute(ClientAttributes.CLIENT_ADDRESS, info.clientAddress())
              .setAttribute(REQUEST_ID, requestId.value());
      if (HttpSemconv.OTHER_METHOD.equals(semconvMethod) && info.method() != null) {
        b.setAttribute(HttpAttributes.HTTP_REQUEST_METHOD_ORIGINAL, bounded(info.method()));
      }
      String query = HttpSemconv.redactQuery(info.query(), settings.redactQueryParams);
      if (query != null && !query.isEmpty()) {
        b.setAttribute(UrlAttributes.URL_QUERY, query);
      }
      String ua = headers.first("User-Agent");
      if (ua != null) {
        b.setAttribute(UserAgentAttributes.USER_AGENT_ORIGINAL, bounded(ua));
      }
      if (route != null) {
        b.setAttribute(HttpAttributes.HTTP_ROUTE, route);
      }
      if (link != null) {
        b.addLink(link);
      }
      span = withOwnIds(b.startSpan(), Span.fromContext(parent).getSpanContext());
    }
    Context base = requestId.storeInContext(parent.with(span));
    CancellableContext cancellable =
        timeout == null
            ? CancellableContext.withCancel(base)
            : CancellableContext.withTimeout(base, timeout);
    int httpKey = httpMetrics.key(semconvMethod, info.scheme(), info.protocol());
    return new Exchange(
        this,
        cancellable,
        span,
        true,
        requestId,
        semconvMethod,
        info.route(),
        httpKey,
        httpMetrics.requestStarted(httpKey));
  }

  /**
   * The server span, or, when the tracer gave none of its own (a no-op OpenTelemetry: its spans are
   * invalid, or the parent's own context again), a non-recording span with fresh IDs, as
   * OpenTelemetry's propagation-only behaviour would give: the parent's trace ID, sampled flag and
   * trace state if there is a parent, else a new trace, not sampled (and, as the SDK marks its own,
   * flagged as having a random trace ID). Without it the {@code traceresponse}, the outgoing {@code
   * traceparent} and the MDC would name the caller's span, or nothing at all.
   */
  static Span withOwnIds(Span span, SpanContext parent) {
    SpanContext sc = span.getSpanContext();
    if (sc.isValid() && !(parent.isValid() && sc.getSpanId().equals(parent.getSpanId()))) {
      return span;
    }
    ThreadLocalRandom random = ThreadLocalRandom.current();
    String traceId;
    TraceFlags flags;
    TraceState state;
    if (parent.isValid()) {
      traceId = parent.getTraceId();
      flags = parent.getTraceFlags();
      state = parent.getTraceState();
    } else {
      long hi;
      long lo;
      do {
        hi = random.nextLong();
        lo = random.nextLong();
      } while (hi == 0 && lo == 0);
      traceId = TraceId.fromLongs(hi, lo);
      flags = NEW_TRACE_FLAGS;
      state = TraceState.getDefault();
    }
    long spanId;
    do {
      spanId = random.nextLong();
    } while (spanId == 0);
    return Span.wrap(SpanContext.create(traceId, SpanId.fromLong(spanId), flags, state));
  }

  private static final TraceFlags NEW_TRACE_FLAGS =
      TraceFlags.builder().setSampled(false).setRandomTraceId(true).build();

  /**
   * Whether {@code openTelemetry} is a no-op: OpenTelemetry's own ({@link OpenTelemetry#noop()},
   * what {@code GlobalOpenTelemetry.get()} gives when nothing was set up), or an SDK with no span
   * processor, whose tracer provider hands out the same no-op tracer.
   */
  public static boolean isNoop(OpenTelemetry openTelemetry) {
    return openTelemetry.getTracer(INSTRUMENTATION_NAME)
        == OpenTelemetry.noop().getTracer(INSTRUMENTATION_NAME);
  }

  /**
   * Whether {@code entry}, found current when a request reaches the filter, belongs to an outer
   * instrumentation of this same request (the OpenTelemetry Java agent's server span, another
   * tracing filter in front of ours) rather than being left behind on a pooled thread by earlier
   * code.
   *
   * <p>Why these tests: a context carrying a Tracelet request ID was made inside one of our
   * requests, and reaching a new request it can only have been leaked by a scope not closed. A span
   * that is still recording has not ended, so its request is still running: on this thread that is
   * the request being dispatched. A span of a request that finished has ended and no longer
   * records. A span that was never sampled does not record either, so an unsampled outer request
   * looks exactly like a leaked context; it is joined only when the OpenTelemetry Java agent is
   * present (its instrumentation is then what makes such spans current), or every unsampled request
   * would get a trace of its own. Without the agent, a non-recording span is treated as a leak. A
   * remote span context was only extracted from headers, never an outer request's span.
   */
  public static boolean isOuterRequestContext(Context entry) {
    return isOuterRequestContext(entry, JAVA_AGENT);
  }

  static boolean isOuterRequestContext(Context entry, boolean javaAgent) {
    if (entry == null || entry == Context.root() || RequestId.fromContext(entry) != null) {
      return false;
    }
    Span span = Span.fromContext(entry);
    SpanContext sc = span.getSpanContext();
    return sc.isValid() && !sc.isRemote() && (span.isRecording() || (javaAgent && !sc.isSampled()));
  }

  /** Whether the OpenTelemetry Java agent runs in this JVM. */
  public static boolean javaAgentPresent() {
    return JAVA_AGENT;
  }

  // The agent appends its bootstrap classes to the bootstrap class path (a null class loader).
  private static final boolean JAVA_AGENT =
      classPresent("io.opentelemetry.javaagent.bootstrap.AgentInitializer");

  private static boolean classPresent(String name) {
    try {
      Class.forName(name, false, null);
      return true;
    } catch (ClassNotFoundException | LinkageError | SecurityException e) {
      return false;
    }
  }

  /**
   * The request inside an outer instrumentation's context: its trace decisions (parent, sampling)
   * are the outer's; the request ID and deadline are ours, set as usual.
   */
  private Exchange join(RequestInfo info, HeaderSource headers, Context outer) {
    RequestId requestId;
    Duration timeout = settings.requestTimeout;
    Context base = outer;
    if (settings.trustIncoming) {
      String incomingId = headers.first(settings.requestIdHeader);
      requestId = RequestId.parseOrGenerate(incomingId);
      timeout = min(timeout, incomingTimeout(headers));
      if (incomingId != null && requestId.isGenerated()) {
        metrics.rejected(FilterMetrics.Rejected.REQUEST_ID);
      }
    } else {
      requestId = RequestId.generate();
      // The outer instrumentation extracted the caller's baggage; an untrusted caller's is dropped
      // here as on our own path (the outer's parent and sampling decisions are its own).
      base = base.with(Baggage.empty());
    }
    metrics.incoming(FilterMetrics.Incoming.JOINED);
    boolean excluded = settings.excludedPaths.matches(info.pathInContext());
    // On an excluded path the outer span stays current but is not ours to describe or echo.
    Span span = excluded ? Span.getInvalid() : Span.fromContext(outer);
    if (!excluded) {
      span.setAttribute(REQUEST_ID, requestId.value());
    }
    base = requestId.storeInContext(base);
    CancellableContext cancellable =
        timeout == null
            ? CancellableContext.withCancel(base)
            : CancellableContext.withTimeout(base, timeout);
    // The outer instrumentation (the Java agent) records http.server.* itself: not twice.
    return new Exchange(
        this,
        cancellable,
        span,
        false,
        requestId,
        HttpSemconv.method(info.method()),
        info.route(),
        HttpServerMetrics.NOT_RECORDED,
        0L);
  }

  /** Counts incoming values that were sent but not used because of what they contained. */
  private void countRejected(
      HeaderSource headers,
      Context extracted,
      SpanContext incoming,
      FilterMetrics.Incoming outcome,
      String incomingId,
      RequestId requestId) {
    if (incomingId != null && requestId.isGenerated()) {
      metrics.rejected(FilterMetrics.Rejected.REQUEST_ID);
    }
    if (readsTracestate
        && outcome == FilterMetrics.Incoming.CONTINUED
        && incoming.getTraceState().isEmpty()
        && headers.first("traceparent") != null
        && !isBlank(headers.first("tracestate"))) {
      metrics.rejected(FilterMetrics.Rejected.TRACESTATE);
    }
    if (readsBaggage
        && Baggage.fromContext(extracted).isEmpty()
        && !isBlank(headers.first("baggage"))) {
      metrics.rejected(FilterMetrics.Rejected.BAGGAGE);
    }
  }

  private static boolean anyPresent(HeaderSource headers, String[] names) {
    for (String name : names) {
      if (headers.first(name) != null) {
        return true;
      }
    }
    return false;
  }

  private static boolean isBlank(String s) {
    return s == null || s.isBlank();
  }

  HttpServerMetrics httpMetrics() {
    return httpMetrics;
  }

  String admitRoute(String route) {
    return semconv.admitRoute(route);
  }

  String spanName(String semconvMethod, String route) {
    return semconv.cachedSpanName(semconvMethod, route);
  }

  /** The port as a {@code Long}, boxed once per port in use rather than once per request. */
  private Long port(int port) {
    Long last = lastPort;
    if (last == null || last != port) {
      last = (long) port;
      lastPort = last;
    }
    return last;
  }

  /** The status code as a {@code Long}; the ones HTTP defines are boxed once. */
  static Long statusCode(int status) {
    if (status < 0 || status >= STATUS_CODES.length) {
      return (long) status;
    }
    Long boxed = STATUS_CODES[status];
    if (boxed == null) {
      // A race boxes an equal value twice at worst.
      boxed = (long) status;
      STATUS_CODES[status] = boxed;
    }
    return boxed;
  }

  /**
   * Hands the response headers of a request to {@code out}, straight from the request ID and the
   * span: no list is built per request. The values need no check here: a {@link RequestId} holds
   * only {@code [A-Za-z0-9+/=._@:-]}, at most 200 characters, and the span context's IDs are
   * validated lowercase hex; {@code ResponseHeadersTest} keeps that true.
   */
  void writeResponseHeaders(RequestId requestId, Span span, HeaderSink out) {
    if (settings.responseRequestId) {
      out.set(settings.requestIdHeader, requestId.value());
    }
    SpanContext sc = span.getSpanContext();
    if (sc.isValid()
        && (settings.responseTraceResponse
            || settings.responseTraceId
            || settings.responseServerTiming)) {
      String traceId = sc.getTraceId();
      String traceparent =
          settings.responseTraceResponse || settings.responseServerTiming
              ? "00-" + traceId + "-" + sc.getSpanId() + "-" + sc.getTraceFlags().asHex()
              : null;
      if (settings.responseTraceResponse) {
        out.set("traceresponse", traceparent);
      }
      if (settings.responseTraceId) {
        out.set(TRACE_ID_HEADER, traceId);
      }
      if (settings.responseServerTiming) {
        out.set("Server-Timing", "traceparent;desc=\"" + traceparent + "\"");
      }
    }
  }

  private Duration incomingTimeout(HeaderSource headers) {
    if (settings.deadlineHeader == null) {
      return null;
    }
    String value = headers.first(settings.deadlineHeader);
    if (settings.deadlineHeaderGrpc) {
      // Nanoseconds, not rounded to milliseconds, so "500u" is not stretched to a whole 1 ms. Zero
      // is kept: gRPC reads it as a deadline already passed, and withTimeout(ZERO) cancels at once.
      long nanos = DeadlineHeader.parseGrpcTimeoutNanos(value);
      if (nanos < 0) {
        return null;
      }
      return min(Duration.ofNanos(nanos), settings.maxIncomingTimeout);
    }
    long millis = DeadlineHeader.parseMillis(value);
    if (millis <= 0) {
      return null;
    }
    return min(Duration.ofMillis(millis), settings.maxIncomingTimeout);
  }

  private static Duration min(Duration a, Duration b) {
    if (a == null) {
      return b;
    }
    return b == null || a.compareTo(b) <= 0 ? a : b;
  }

  /**
   * A remote parent for the Go middleware's {@code X-Trace-ID}: it carries only a trace ID, so the
   * parent span ID is generated. It is marked sampled because the Go side records every request it
   * sends an ID for; with a parent-based sampler an unsampled parent would silently drop the trace
   * the caller asked to join.
   */
  static SpanContext fromTraceIdHeader(String value) {
    if (value == null) {
      return SpanContext.getInvalid();
    }
    String v = TraceStateCodec.trimOws(value);
    if (v.length() != 32 || !isLowerHex(v) || !TraceId.isValid(v)) {
      return SpanContext.getInvalid();
    }
    ThreadLocalRandom random = ThreadLocalRandom.current();
    long spanId;
    do {
      spanId = random.nextLong();
    } while (spanId == 0);
    return SpanContext.createFromRemoteParent(
        v, String.format("%016x", spanId), TraceFlags.getSampled(), TraceState.getDefault());
  }

  private static boolean isLowerHex(String s) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
        return false;
      }
    }
    return true;
  }

  private static String bounded(String s) {
    return s.length() <= 512 ? s : s.substring(0, 512);
  }
}
