package io.tracelet.servlet.internal.server;

import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.baggage.Baggage;
import io.opentelemetry.api.baggage.propagation.W3CBaggagePropagator;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanBuilder;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.SpanId;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.TraceFlags;
import io.opentelemetry.api.trace.TraceId;
import io.opentelemetry.api.trace.TraceState;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.propagation.TextMapPropagator;
import io.opentelemetry.semconv.ClientAttributes;
import io.opentelemetry.semconv.ErrorAttributes;
import io.opentelemetry.semconv.HttpAttributes;
import io.opentelemetry.semconv.ServerAttributes;
import io.opentelemetry.semconv.UrlAttributes;
import io.opentelemetry.semconv.UserAgentAttributes;
import io.tracelet.CancellableContext;
import io.tracelet.DeadlineHeader;
import io.tracelet.RequestId;
import io.tracelet.internal.OutboundPropagation;
import io.tracelet.servlet.OutboundPropagator;
import io.tracelet.servlet.TracingConfig;
import io.tracelet.servlet.internal.Failures;
import io.tracelet.servlet.internal.propagation.HeaderSource;
import io.tracelet.servlet.internal.propagation.IncomingGetter;
import io.tracelet.servlet.internal.propagation.IsolatedPropagator;
import io.tracelet.servlet.internal.propagation.Level2TraceState;
import io.tracelet.servlet.internal.propagation.TraceStateCodec;
import io.tracelet.servlet.internal.settings.PathGlobs;
import io.tracelet.servlet.internal.settings.Settings;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Function;
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
  // What a user must act on is logged under the filter's name, the logger they know.
  private static final Logger filterLog =
      LoggerFactory.getLogger("io.tracelet.servlet.TracingFilter");

  private final Settings settings;
  private final Tracer tracer;
  private final TextMapPropagator propagator;
  // In every request context: the traced HTTP client injects with it (allow-listed baggage only).
  private final OutboundPropagator outbound;
  // The root context with the outbound propagator in it, made once: every request context starts
  // from it, so a request pays for one context entry less (the propagator is the filter's, the
  // same for every request).
  private final Context requestRoot;
  private final HttpSemconv semconv = new HttpSemconv();
  private final FilterMetrics metrics;
  private final HttpServerMetrics httpMetrics;
  // The headers whose presence means a caller tried to send a trace (for the "invalid" outcome).
  private final String[] traceHeaders;
  private final boolean readsTracestate;
  private final HeaderIndex headerIndex;
  private final boolean readsBaggage;
  private final LongAdder spanEndFailures = new LongAdder();
  private final AtomicBoolean spanEndFailureLogged = new AtomicBoolean();
  private final LongAdder leakedContexts = new LongAdder();
  private final LongAdder joinedContexts = new LongAdder();
  private final AtomicBoolean leakLogged = new AtomicBoolean();
  private final AtomicBoolean failureLogged = new AtomicBoolean();
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
    this.outbound = OutboundPropagator.wrap(propagator, settings.baggageAllowList);
    this.requestRoot = OutboundPropagation.storeInContext(Context.root(), outbound);
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
    // The names every request asks about first; the propagator's fields after them.
    List<String> read = new ArrayList<>();
    read.add(settings.requestIdHeader);
    read.add(TRACE_ID_HEADER);
    read.add("User-Agent");
    read.add(settings.deadlineHeader);
    read.addAll(propagator.fields());
    read.addAll(trace);
    this.headerIndex = new HeaderIndex(read);
    this.readsTracestate = tracestate;
    this.readsBaggage = baggage;
  }

  /**
   * The handler for one filter, set up once at start-up: settings resolved from {@code config},
   * then {@code initParams}, system properties and environment variables (an unknown init-param or
   * an invalid value throws an {@link IllegalArgumentException} saying what to change), and the
   * incoming propagator chosen by {@link #incomingPropagator}, isolated and counted.
   */
  public static ServerTracing create(
      TracingConfig config,
      Map<String, String> initParams,
      OpenTelemetry openTelemetry,
      Function<String, String> systemProperty,
      Function<String, String> environment) {
    List<String> unknown = new ArrayList<>();
    for (String name : initParams.keySet()) {
      if (TracingConfig.Setting.forKey(name) == null) {
        unknown.add(name);
      }
    }
    if (!unknown.isEmpty()) {
      throw new IllegalArgumentException(
          "unknown init-param "
              + unknown
              + "; the Tracelet settings are "
              + TracingConfig.settingNames());
    }
    Settings settings = Settings.resolve(config, initParams::get, systemProperty, environment);
    if (isNoop(openTelemetry)) {
      // Once per filter, at start-up: the most common reason for "no traces" is that nothing
      // installed an SDK, and without this line it looks as if Tracelet dropped them.
      filterLog.warn(
          "Tracelet: no OpenTelemetry SDK is set up (the OpenTelemetry in use is a no-op), so no"
              + " spans are recorded; requests are still served, with trace IDs, request IDs and"
              + " deadlines. To record spans, set one up before the filter starts: call"
              + " TraceletOpenTelemetry.initialize() (tracelet-sdk), pass an OpenTelemetry in"
              + " TracingConfig.builder().openTelemetry(..), or run the OpenTelemetry Java agent.");
    }
    FilterMetrics metrics = new FilterMetrics(openTelemetry);
    TextMapPropagator configured =
        config.propagator() != null
            ? config.propagator()
            : incomingPropagator(settings, openTelemetry, systemProperty, environment);
    // Re-wrapped with this filter's counters; the parts listed by name or in the builder stay
    // separately isolated.
    return new ServerTracing(
        settings, openTelemetry, IsolatedPropagator.of(List.of(configured), metrics), metrics);
  }

  /**
   * The propagator for incoming requests: the {@code propagators} setting, else the OpenTelemetry
   * instance's (when it has any), else {@code otel.propagators} / {@code OTEL_PROPAGATORS}, else
   * W3C trace context and baggage.
   */
  public static TextMapPropagator incomingPropagator(
      Settings settings,
      OpenTelemetry openTelemetry,
      Function<String, String> systemProperty,
      Function<String, String> environment) {
    TextMapPropagator fromConfig = settings.propagators;
    if (fromConfig != null) {
      return fromConfig;
    }
    TextMapPropagator fromOtel = openTelemetry.getPropagators().getTextMapPropagator();
    if (!fromOtel.fields().isEmpty()) {
      return fromOtel;
    }
    TextMapPropagator fromEnv = Settings.otelPropagators(systemProperty, environment);
    if (fromEnv != null) {
      return fromEnv;
    }
    return IsolatedPropagator.of(
        List.of(W3CTraceContextPropagator.getInstance(), W3CBaggagePropagator.getInstance()),
        IsolatedPropagator.FailureCounter.NONE);
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

  /** How many requests found a context leaked by earlier code on their thread. */
  public long leakedContextCount() {
    return leakedContexts.sum();
  }

  /** How many requests joined an outer instrumentation's request context. */
  public long joinedContextCount() {
    return joinedContexts.sum();
  }

  /** What outbound calls inject with: the propagator, baggage limited to the allow-list. */
  public OutboundPropagator outboundPropagator() {
    return outbound;
  }

  /** Our own code failed around a request: logged once, the request continues untraced. */
  public void failed(Exception e) {
    if (failureLogged.compareAndSet(false, true)) {
      // The exception may come from a span processor whose message quotes request data; the whole
      // exception is at DEBUG.
      filterLog.error(
          "Tracelet: tracing failed with {}; the request continues untraced (logged once)",
          Failures.describe(e));
    }
    filterLog.debug("Tracelet: tracing failed", e);
  }

  private void spanEndFailed(RuntimeException e) {
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

  /** The request headers this handler reads, for a container to capture in one pass. */
  public HeaderIndex headerIndex() {
    return headerIndex;
  }

  /** The settings in force. */
  public Settings settings() {
    return settings;
  }

  /**
   * Starts a request, the handler's entry point: the context current on arrival decides whether the
   * request joins an outer instrumentation's span, starts from the root context (the usual case),
   * or finds a context leaked by earlier code (then it starts from the root too, counted and logged
   * once). The response headers go to {@code responseHeaders} before the application runs. Returns
   * null when our own code failed: the request then runs untraced, and nothing is left open.
   * Otherwise the caller must {@link #end} the exchange exactly once.
   */
  public Exchange begin(ServerRequest request, HeaderSink responseHeaders) {
    Exchange exchange = null;
    try {
      exchange = start(request, outerContext(Context.current()));
      writeResponseHeaders(exchange, responseHeaders);
      return exchange;
    } catch (RuntimeException e) {
      failed(e);
      if (exchange != null) {
        end(exchange, 0, null, false, null);
      }
      return null;
    }
  }

  /**
   * The context an outer instrumentation of this request made current, or null: the usual root
   * context, or a context a pooled thread still carries because a scope was not closed (inheriting
   * it would mix another request's trace and values into this one).
   */
  private Context outerContext(Context entry) {
    if (entry == Context.root()) {
      return null;
    }
    if (isOuterRequestContext(entry)) {
      joinedContexts.increment();
      return entry;
    }
    leakedContexts.increment();
    if (leakLogged.compareAndSet(false, true)) {
      filterLog.warn(
          "Tracelet: a request thread still carried a context from earlier code (a Scope was"
              + " not closed); requests start from the root context. Counted in"
              + " TracingFilter.leakedContextCount(); logged once.");
    }
    return null;
  }

  /**
   * Starts a request inside {@code outer}, the context an outer instrumentation of this same
   * request made current (see {@link #isOuterRequestContext}), or from the root context when it is
   * null, never from whatever the thread carries. Inside an outer context no second server span is
   * started: the outer one is the request's span, and its owner names it, records the outcome and
   * ends it. The caller must {@link #end} the returned exchange exactly once.
   */
  public Exchange start(ServerRequest request, Context outer) {
    if (outer != null) {
      return join(request, outer);
    }
    Context extracted = propagator.extract(requestRoot, request, IncomingGetter.INSTANCE);
    SpanContext incoming = Span.fromContext(extracted).getSpanContext();
    // Looked up once: most requests have none, and each lookup is a scan of the headers.
    String tracestate = readsTracestate ? request.first("tracestate") : null;
    if (tracestate != null && incoming.isValid() && incoming.getTraceState().isEmpty()) {
      // OpenTelemetry's W3C propagator drops a tracestate with a key only Level 2 allows.
      SpanContext restored = Level2TraceState.restore(incoming, request);
      if (restored != incoming) {
        incoming = restored;
        extracted = extracted.with(Span.wrap(restored));
      }
    }
    FilterMetrics.Incoming outcome = FilterMetrics.Incoming.CONTINUED;
    if (!incoming.isValid()) {
      incoming = fromTraceIdHeader(request.first(TRACE_ID_HEADER));
      if (incoming.isValid()) {
        extracted = extracted.with(Span.wrap(incoming));
        outcome = FilterMetrics.Incoming.X_TRACE_ID;
      } else {
        outcome =
            anyPresent(request, traceHeaders)
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
      String incomingId = request.first(settings.requestIdHeader);
      requestId = RequestId.parseOrGenerate(incomingId);
      timeout = min(timeout, incomingTimeout(request));
      countRejected(request, tracestate, extracted, incoming, outcome, incomingId, requestId);
    } else {
      // Untrusted callers may not steer our trace (nor its sampling), our request ID, our
      // baggage or our deadline: their trace is kept only as a link.
      parent = requestRoot;
      link = incoming.isValid() ? incoming : null;
      requestId = RequestId.generate();
      if (link != null) {
        outcome = FilterMetrics.Incoming.LINKED;
      }
    }
    metrics.incoming(outcome);

    boolean excluded = excluded(request);
    Span span = Span.getInvalid();
    String semconvMethod = HttpSemconv.method(request.method());
    String mappingRoute = request.mappingRoute();
    if (!excluded) {
      String route = semconv.admitRoute(mappingRoute);
      SpanBuilder b =
          tracer
              .spanBuilder(semconv.cachedSpanName(semconvMethod, route))
              .setParent(parent)
              .setSpanKind(SpanKind.SERVER)
              .setAttribute(HttpAttributes.HTTP_REQUEST_METHOD, semconvMethod)
              .setAttribute(UrlAttributes.URL_PATH, request.path())
              .setAttribute(UrlAttributes.URL_SCHEME, request.scheme())
              .setAttribute(ServerAttributes.SERVER_ADDRESS, request.serverAddress())
              .setAttribute(ServerAttributes.SERVER_PORT, port(request.serverPort()))
              .setAttribute(ClientAttributes.CLIENT_ADDRESS, request.clientAddress())
              .setAttribute(REQUEST_ID, requestId.value());
      if (HttpSemconv.OTHER_METHOD.equals(semconvMethod) && request.method() != null) {
        b.setAttribute(HttpAttributes.HTTP_REQUEST_METHOD_ORIGINAL, bounded(request.method()));
      }
      String query = HttpSemconv.redactQuery(request.query(), settings.redactQueryParams);
      if (query != null && !query.isEmpty()) {
        b.setAttribute(UrlAttributes.URL_QUERY, query);
      }
      String ua = request.first("User-Agent");
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
    try {
      Context base = requestId.storeInContext(parent.with(span));
      CancellableContext cancellable =
          timeout == null
              ? CancellableContext.withCancel(base)
              : CancellableContext.withTimeout(base, timeout);
      int httpKey = httpMetrics.key(semconvMethod, request);
      // Last: once the request counts as active, nothing else may fail before the exchange exists.
      return new Exchange(
          cancellable,
          span,
          true,
          requestId,
          semconvMethod,
          mappingRoute,
          httpKey,
          httpMetrics.requestStarted(httpKey));
    } catch (RuntimeException e) {
      // No exchange to end: the span started above must not stay open.
      span.end();
      throw e;
    }
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
    return Span.wrap(SpanContext.create(traceId, newSpanId(random), flags, state));
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
  private Exchange join(ServerRequest request, Context outer) {
    RequestId requestId;
    Duration timeout = settings.requestTimeout;
    Context base = outer;
    if (settings.trustIncoming) {
      String incomingId = request.first(settings.requestIdHeader);
      requestId = RequestId.parseOrGenerate(incomingId);
      timeout = min(timeout, incomingTimeout(request));
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
    boolean excluded = excluded(request);
    // On an excluded path the outer span stays current but is not ours to describe or echo.
    Span span = excluded ? Span.getInvalid() : Span.fromContext(outer);
    if (!excluded) {
      span.setAttribute(REQUEST_ID, requestId.value());
    }
    base = OutboundPropagation.storeInContext(requestId.storeInContext(base), outbound);
    CancellableContext cancellable =
        timeout == null
            ? CancellableContext.withCancel(base)
            : CancellableContext.withTimeout(base, timeout);
    // The outer instrumentation (the Java agent) records http.server.* itself: not twice.
    return new Exchange(
        cancellable,
        span,
        false,
        requestId,
        HttpSemconv.method(request.method()),
        null,
        HttpServerMetrics.NOT_RECORDED,
        0L);
  }

  /** Whether the request's path is excluded from tracing; the path is only read when any is. */
  private boolean excluded(ServerRequest request) {
    PathGlobs excluded = settings.excludedPaths;
    return !excluded.isEmpty() && excluded.matches(request.pathInContext());
  }

  /** Counts incoming values that were sent but not used because of what they contained. */
  private void countRejected(
      HeaderSource headers,
      String tracestate,
      Context extracted,
      SpanContext incoming,
      FilterMetrics.Incoming outcome,
      String incomingId,
      RequestId requestId) {
    if (incomingId != null && requestId.isGenerated()) {
      metrics.rejected(FilterMetrics.Rejected.REQUEST_ID);
    }
    if (!isBlank(tracestate)
        && outcome == FilterMetrics.Incoming.CONTINUED
        && incoming.getTraceState().isEmpty()
        && headers.first("traceparent") != null) {
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

  /**
   * Ends a request, the one finishing path for synchronous and asynchronous requests: records the
   * outcome on the span (when it is ours), ends it and closes the request context. Only the first
   * call for an exchange does anything.
   *
   * @param status the response status
   * @param failure what escaped the application, or null
   * @param committed whether the response was committed (a later 500 from the container is then
   *     impossible)
   * @param appRoute the route set by the application, or null
   * @return whether this call ended the exchange
   */
  public boolean end(
      Exchange exchange, int status, Throwable failure, boolean committed, String appRoute) {
    if (!exchange.markFinished()) {
      return false;
    }
    Span span = exchange.span();
    try {
      Throwable f = failure == null ? exchange.recordedFailure() : failure;
      httpMetrics.requestEnded(
          exchange.httpKey(),
          exchange.startNanos(),
          status,
          f,
          f == null ? null : exchange.classify(f),
          committed,
          exchange.timedOut(),
          exchange.clientGone(),
          appRoute,
          exchange.mappingRoute());
      if (exchange.ownsSpan() && span.getSpanContext().isValid()) {
        record(exchange, status, f, committed, appRoute);
      }
    } catch (RuntimeException e) {
      failed(e);
    } finally {
      try {
        if (exchange.ownsSpan()) {
          span.end();
        }
      } catch (RuntimeException e) {
        // The SDK runs span processors' onEnd on this thread, so a broken processor throws here.
        // The answer is on its way regardless, and the request context must still be closed.
        spanEndFailed(e);
      } finally {
        exchange.closeContext();
      }
    }
    return true;
  }

  private void record(
      Exchange exchange, int status, Throwable failure, boolean committed, String appRoute) {
    Span span = exchange.span();
    if (appRoute != null && !appRoute.equals(exchange.mappingRoute())) {
      String route = semconv.admitRoute(appRoute);
      if (route != null) {
        span.updateName(semconv.cachedSpanName(exchange.semconvMethod(), route));
        span.setAttribute(HttpAttributes.HTTP_ROUTE, route);
      }
    }
    int effective = status;
    // A client that leaves is not a server error, so the failure it causes (the cancellation, or an
    // IOException writing to a closed socket) is not recorded as one. An explicit 5xx status, or an
    // unrelated failure, still is: the client may also leave right after reading a complete 500.
    boolean causedByClient =
        failure != null && exchange.classify(failure) == Exchange.FailureKind.CLIENT_GONE;
    if (exchange.clientGone()) {
      span.addEvent("client disconnected");
    }
    if (failure != null && !causedByClient) {
      span.recordException(failure);
      span.setAttribute(ErrorAttributes.ERROR_TYPE, failure.getClass().getName());
      span.setStatus(StatusCode.ERROR);
      if (!committed && status < 500) {
        // The container answers an escaped exception with 500.
        effective = 500;
      }
    }
    if (effective > 0) {
      span.setAttribute(HttpAttributes.HTTP_RESPONSE_STATUS_CODE, statusCode(effective));
    }
    if (effective >= 500 && !causedByClient) {
      span.setStatus(StatusCode.ERROR);
      if (failure == null) {
        span.setAttribute(
            ErrorAttributes.ERROR_TYPE,
            exchange.timedOut() ? "timeout" : Integer.toString(effective));
      }
    }
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
  public void writeResponseHeaders(Exchange exchange, HeaderSink out) {
    RequestId requestId = exchange.requestId();
    Span span = exchange.span();
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
    // OpenTelemetry's check: 32 lowercase hex digits, not all zero.
    if (!TraceId.isValid(v)) {
      return SpanContext.getInvalid();
    }
    return SpanContext.createFromRemoteParent(
        v,
        newSpanId(ThreadLocalRandom.current()),
        TraceFlags.getSampled(),
        TraceState.getDefault());
  }

  /** A random valid (non-zero) span ID. */
  private static String newSpanId(ThreadLocalRandom random) {
    long spanId;
    do {
      spanId = random.nextLong();
    } while (spanId == 0);
    return SpanId.fromLong(spanId);
  }

  private static String bounded(String s) {
    return s.length() <= 512 ? s : s.substring(0, 512);
  }
}
