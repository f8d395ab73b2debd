package io.tracelet.servlet.internal;

import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.baggage.Baggage;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanBuilder;
import io.opentelemetry.api.trace.SpanContext;
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

  private final Settings settings;
  private final Tracer tracer;
  private final TextMapPropagator propagator;
  private final HttpSemconv semconv = new HttpSemconv();
  private final FilterMetrics metrics;
  // The headers whose presence means a caller tried to send a trace (for the "invalid" outcome).
  private final String[] traceHeaders;
  private final boolean readsTracestate;
  private final boolean readsBaggage;

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

  /** The settings in force. */
  public Settings settings() {
    return settings;
  }

  /**
   * Starts a request: always from the root context, never from whatever the thread carries. The
   * caller must end the returned exchange exactly once.
   */
  public Exchange begin(RequestInfo info, HeaderSource headers) {
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
              .spanBuilder(HttpSemconv.spanName(semconvMethod, route))
              .setParent(parent)
              .setSpanKind(SpanKind.SERVER)
              .setAttribute(HttpAttributes.HTTP_REQUEST_METHOD, semconvMethod)
              .setAttribute(UrlAttributes.URL_PATH, info.path())
              .setAttribute(UrlAttributes.URL_SCHEME, info.scheme())
              .setAttribute(ServerAttributes.SERVER_ADDRESS, info.serverAddress())
              .setAttribute(ServerAttributes.SERVER_PORT, (long) info.serverPort())
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
      span = b.startSpan();
    }
    Context base = requestId.storeInContext(parent.with(span));
    CancellableContext cancellable =
        timeout == null
            ? CancellableContext.withCancel(base)
            : CancellableContext.withTimeout(base, timeout);
    return new Exchange(this, cancellable, span, requestId, semconvMethod, info.route());
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

  String admitRoute(String route) {
    return semconv.admitRoute(route);
  }

  ResponseHeaders responseHeaders(RequestId requestId, Span span) {
    ResponseHeaders out = new ResponseHeaders();
    if (settings.responseRequestId) {
      out.add(settings.requestIdHeader, requestId.value());
    }
    SpanContext sc = span.getSpanContext();
    if (sc.isValid()) {
      String traceparent =
          "00-" + sc.getTraceId() + "-" + sc.getSpanId() + "-" + sc.getTraceFlags().asHex();
      if (settings.responseTraceResponse) {
        out.add("traceresponse", traceparent);
      }
      if (settings.responseTraceId) {
        out.add(TRACE_ID_HEADER, sc.getTraceId());
      }
      if (settings.responseServerTiming) {
        out.add("Server-Timing", "traceparent;desc=\"" + traceparent + "\"");
      }
    }
    return out;
  }

  private Duration incomingTimeout(HeaderSource headers) {
    if (settings.deadlineHeader == null) {
      return null;
    }
    long millis = DeadlineHeader.parseMillis(headers.first(settings.deadlineHeader));
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
