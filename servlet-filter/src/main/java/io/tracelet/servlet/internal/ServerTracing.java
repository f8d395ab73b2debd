package io.tracelet.servlet.internal;

import io.opentelemetry.api.OpenTelemetry;
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
  private static final Long[] STATUS_CODES = new Long[600];
  private volatile Long lastPort;

  /**
   * The core for one filter.
   *
   * @param propagator reads the incoming context; it is handed {@link IncomingGetter}
   */
  public ServerTracing(
      Settings settings, OpenTelemetry openTelemetry, TextMapPropagator propagator) {
    this.settings = settings;
    this.tracer = openTelemetry.getTracer(INSTRUMENTATION_NAME);
    this.propagator = propagator;
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
    Context extracted = propagator.extract(Context.root(), headers, IncomingGetter.INSTANCE);
    SpanContext incoming = Span.fromContext(extracted).getSpanContext();
    if (!incoming.isValid()) {
      incoming = fromTraceIdHeader(headers.first(TRACE_ID_HEADER));
      if (incoming.isValid()) {
        extracted = extracted.with(Span.wrap(incoming));
      }
    }
    Context parent;
    SpanContext link = null;
    RequestId requestId;
    Duration timeout = settings.requestTimeout;
    if (settings.trustIncoming) {
      parent = extracted;
      requestId = RequestId.parseOrGenerate(headers.first(settings.requestIdHeader));
      timeout = min(timeout, incomingTimeout(headers));
    } else {
      // Untrusted callers may not steer our trace (nor its sampling), our request ID, our
      // baggage or our deadline: their trace is kept only as a link.
      parent = Context.root();
      link = incoming.isValid() ? incoming : null;
      requestId = RequestId.generate();
    }

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
      span = b.startSpan();
    }
    Context base = requestId.storeInContext(parent.with(span));
    CancellableContext cancellable =
        timeout == null
            ? CancellableContext.withCancel(base)
            : CancellableContext.withTimeout(base, timeout);
    return new Exchange(this, cancellable, span, requestId, semconvMethod, info.route());
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
