package io.tracelet.servlet.internal.server;

import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.common.AttributesBuilder;
import io.opentelemetry.api.metrics.DoubleHistogram;
import io.opentelemetry.api.metrics.LongCounter;
import io.opentelemetry.api.metrics.LongUpDownCounter;
import io.opentelemetry.api.metrics.Meter;
import io.opentelemetry.api.metrics.MeterProvider;
import io.opentelemetry.semconv.ErrorAttributes;
import io.opentelemetry.semconv.HttpAttributes;
import io.opentelemetry.semconv.NetworkAttributes;
import io.opentelemetry.semconv.UrlAttributes;
import io.tracelet.servlet.internal.Failures;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTP server metrics of the semantic conventions (1.44, stable), as OpenTelemetry's own
 * servlet instrumentation records them, plus Tracelet's count of requests ended by their deadline
 * or by their client leaving:
 *
 * <ul>
 *   <li>{@code http.server.request.duration} (histogram, {@code s}) by {@code http.request.method},
 *       {@code url.scheme}, {@code http.response.status_code}, {@code http.route} when known,
 *       {@code error.type} when it failed and {@code network.protocol.version};
 *   <li>{@code http.server.active_requests} (up-down counter, {@code {request}}) by {@code
 *       http.request.method} and {@code url.scheme};
 *   <li>{@code tracelet.server.cancelled_requests} (counter, {@code {request}}) by {@code
 *       tracelet.cause}: {@code deadline} or {@code client_disconnect}.
 * </ul>
 *
 * <p>The request path allocates nothing here: the attributes of {@code active_requests} are built
 * once per method and scheme, and those of the duration once per (route, method, scheme, protocol,
 * status) for the statuses HTTP services commonly answer; only a failure, a rare status or a full
 * cache builds them per request. The time is read once at the start and once at the end. With a
 * no-op meter provider (none set up, or an SDK without a metric reader) nothing at all is done.
 *
 * <p>When the filter joins an outer instrumentation's request (the OpenTelemetry Java agent) that
 * instrumentation records the {@code http.server.*} metrics; the filter then records only its own
 * counter, so nothing is counted twice.
 */
public final class HttpServerMetrics {

  /** The key of a request whose {@code http.server.*} metrics are not recorded here. */
  public static final int NOT_RECORDED = -1;

  static final String DURATION = "http.server.request.duration";
  static final String ACTIVE = "http.server.active_requests";
  static final String CANCELLED = "tracelet.server.cancelled_requests";
  static final AttributeKey<String> CAUSE = AttributeKey.stringKey("tracelet.cause");

  /** The semantic conventions' advice for {@code http.server.request.duration}, in seconds. */
  static final List<Double> DURATION_BUCKETS =
      List.of(0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0);

  /** Why a request ended early, for {@code tracelet.server.cancelled_requests}. */
  enum Cause {
    DEADLINE("deadline"),
    CLIENT_DISCONNECT("client_disconnect");

    final String value;

    Cause(String value) {
      this.value = value;
    }
  }

  // The methods HttpSemconv.method returns, _OTHER last.
  private static final String[] METHODS = {
    "GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH", "_OTHER"
  };
  // url.scheme: a servlet request is http or https; anything else came from a forwarded header a
  // client may write (X-Forwarded-Proto), and is counted as _OTHER so that it cannot multiply the
  // metric's series, as an unknown method is.
  private static final String[] SCHEMES = {"http", "https", "_OTHER"};
  // network.protocol.version as the semantic conventions spell it; index 0: unknown, not set.
  private static final String[] PROTOCOLS = {null, "1.0", "1.1", "2", "3"};
  private static final int KEYS = METHODS.length * SCHEMES.length * PROTOCOLS.length;

  // The statuses whose duration attributes are cached; any other is built per request.
  private static final int[] CACHED_STATUSES = {
    200, 201, 202, 204, 206, 301, 302, 303, 304, 307, 308, 400, 401, 403, 404, 405, 406, 408, 409,
    410, 411, 412, 413, 414, 415, 416, 422, 429, 431, 500, 501, 502, 503, 504
  };
  private static final int[] STATUS_SLOT = new int[600];

  static {
    java.util.Arrays.fill(STATUS_SLOT, -1);
    for (int i = 0; i < CACHED_STATUSES.length; i++) {
      STATUS_SLOT[CACHED_STATUSES[i]] = i;
    }
  }

  /**
   * The most (route, method, scheme, protocol) combinations whose duration attributes are cached,
   * about 150 bytes each; HttpSemconv bounds the routes, this bounds their product.
   */
  static final int MAX_CACHED_COMBINATIONS = 4096;

  private static final Logger log = LoggerFactory.getLogger(HttpServerMetrics.class);

  private final boolean enabled;
  private final HttpSemconv semconv;
  private final DoubleHistogram duration;
  private final LongUpDownCounter active;
  private final LongCounter cancelled;
  private final Attributes[] activeAttributes;
  private final Attributes[] baseAttributes;
  private final Attributes[] causeAttributes;
  // Duration attributes by route, then key, then status slot; filled as requests come.
  private final ConcurrentHashMap<String, Attributes[][]> byRoute = new ConcurrentHashMap<>();
  private final Attributes[][] noRoute = new Attributes[KEYS][];
  private final AtomicInteger cachedCombinations = new AtomicInteger();
  private final AtomicBoolean failureLogged = new AtomicBoolean();

  HttpServerMetrics(OpenTelemetry openTelemetry, HttpSemconv semconv) {
    this.semconv = semconv;
    Meter meter = openTelemetry.getMeter(FilterMetrics.SCOPE);
    // An SDK without a metric reader hands out the no-op meter too, so this also catches it.
    enabled = meter != MeterProvider.noop().get(FilterMetrics.SCOPE);
    duration =
        meter
            .histogramBuilder(DURATION)
            .setDescription("Duration of HTTP server requests.")
            .setUnit("s")
            .setExplicitBucketBoundariesAdvice(DURATION_BUCKETS)
            .build();
    active =
        meter
            .upDownCounterBuilder(ACTIVE)
            .setDescription("Number of active HTTP server requests.")
            .setUnit("{request}")
            .build();
    cancelled =
        meter
            .counterBuilder(CANCELLED)
            .setDescription(
                "Requests ended early: their deadline passed, or their client disconnected")
            .setUnit("{request}")
            .build();
    activeAttributes = new Attributes[METHODS.length * SCHEMES.length];
    baseAttributes = new Attributes[KEYS];
    for (int m = 0; m < METHODS.length; m++) {
      for (int s = 0; s < SCHEMES.length; s++) {
        Attributes methodScheme =
            Attributes.of(
                HttpAttributes.HTTP_REQUEST_METHOD,
                METHODS[m],
                UrlAttributes.URL_SCHEME,
                SCHEMES[s]);
        activeAttributes[m * SCHEMES.length + s] = methodScheme;
        for (int p = 0; p < PROTOCOLS.length; p++) {
          baseAttributes[(m * SCHEMES.length + s) * PROTOCOLS.length + p] =
              PROTOCOLS[p] == null
                  ? methodScheme
                  : methodScheme.toBuilder()
                      .put(NetworkAttributes.NETWORK_PROTOCOL_VERSION, PROTOCOLS[p])
                      .build();
        }
      }
    }
    causeAttributes = new Attributes[Cause.values().length];
    for (Cause c : Cause.values()) {
      causeAttributes[c.ordinal()] = Attributes.of(CAUSE, c.value);
    }
  }

  /** Whether anything is recorded (the meter provider is not a no-op). */
  boolean isEnabled() {
    return enabled;
  }

  /**
   * The key of {@code request}'s constant attributes, for {@link #requestStarted} and {@link
   * #requestEnded}; {@link #NOT_RECORDED} when nothing is recorded, and then nothing is read from
   * the request (the usual set-up, without a meter provider).
   */
  int key(String semconvMethod, ServerRequest request) {
    return enabled ? key(semconvMethod, request.scheme(), request.protocol()) : NOT_RECORDED;
  }

  /**
   * The key for these attribute values.
   *
   * @param semconvMethod the method as {@link HttpSemconv#method} returns it
   * @param scheme the request's scheme
   * @param protocol the request's protocol ({@code HTTP/1.1}), or null
   */
  int key(String semconvMethod, String scheme, String protocol) {
    if (!enabled) {
      return NOT_RECORDED;
    }
    return ((methodIndex(semconvMethod) * SCHEMES.length) + schemeIndex(scheme)) * PROTOCOLS.length
        + protocolIndex(protocol);
  }

  /**
   * Counts the request as active and returns its start ({@link System#nanoTime}), or 0 when {@code
   * key} is {@link #NOT_RECORDED}.
   */
  long requestStarted(int key) {
    if (key == NOT_RECORDED) {
      return 0;
    }
    try {
      active.add(1, activeAttributes[key / PROTOCOLS.length]);
    } catch (RuntimeException e) {
      // As in requestEnded: a broken meter provider must not break the request.
      failed(e);
    }
    return System.nanoTime();
  }

  /**
   * Records the end of a request: its duration and the end of its activity (for a request started
   * with {@code key}), and whether it ended early. The status and {@code error.type} follow the
   * server span's rules (Exchange.record): an exception that escaped an uncommitted response is
   * answered 500 by the container; a failure caused by the client leaving is not an error; a 5xx
   * without an exception has its status code as {@code error.type}.
   *
   * @param key from {@link #key}, or {@link #NOT_RECORDED} for a request joined to an outer
   *     instrumentation's (only the early-end counter is then recorded)
   * @param startNanos from {@link #requestStarted}
   * @param status the response status, 0 when unknown
   * @param failure what escaped the application, or null
   * @param kind how {@code failure} was classified, or null without a failure
   * @param committed whether the response was committed
   * @param timedOut whether an asynchronous request timed out
   * @param clientGone whether the client disconnected
   * @param appRoute the route the application set, or null
   * @param mappingRoute the route of the servlet mapping, or null
   */
  void requestEnded(
      int key,
      long startNanos,
      int status,
      Throwable failure,
      Exchange.FailureKind kind,
      boolean committed,
      boolean timedOut,
      boolean clientGone,
      String appRoute,
      String mappingRoute) {
    if (!enabled) {
      return;
    }
    try {
      if (clientGone) {
        cancelled.add(1, causeAttributes[Cause.CLIENT_DISCONNECT.ordinal()]);
      } else if (timedOut || kind == Exchange.FailureKind.DEADLINE_EXCEEDED) {
        cancelled.add(1, causeAttributes[Cause.DEADLINE.ordinal()]);
      }
      if (key == NOT_RECORDED) {
        return;
      }
      double seconds = (System.nanoTime() - startNanos) / 1e9;
      active.add(-1, activeAttributes[key / PROTOCOLS.length]);
      boolean causedByClient = kind == Exchange.FailureKind.CLIENT_GONE;
      int effective = status;
      String errorType = null;
      if (failure != null && !causedByClient) {
        errorType = failure.getClass().getName();
        if (!committed && status < 500) {
          effective = 500;
        }
      } else if (timedOut && effective >= 500) {
        errorType = "timeout";
      }
      String route = route(appRoute, mappingRoute);
      duration.record(
          seconds,
          causedByClient
              // Not an error, whatever the status: as on the span, nobody was waiting for it.
              ? build(key, effective, route, null, false)
              : durationAttributes(key, effective, route, errorType));
    } catch (RuntimeException e) {
      // A broken meter provider must not break the request's completion.
      failed(e);
    }
  }

  private void failed(RuntimeException e) {
    if (failureLogged.compareAndSet(false, true)) {
      log.warn(
          "Tracelet: recording the HTTP server metrics failed with {}; requests are served"
              + " regardless (logged once)",
          Failures.describe(e));
    }
    log.debug("Tracelet: recording the HTTP server metrics failed", e);
  }

  /**
   * The route for {@code http.route}, as the span has it: the application's if admitted, else the
   * servlet mapping's if admitted. A route already in the cache was admitted before, so the usual
   * request costs one map lookup here.
   */
  private String route(String appRoute, String mappingRoute) {
    if (appRoute != null) {
      if (byRoute.containsKey(appRoute)) {
        return appRoute;
      }
      String admitted = semconv.admitRoute(appRoute);
      if (admitted != null) {
        return admitted;
      }
    }
    if (mappingRoute == null || byRoute.containsKey(mappingRoute)) {
      return mappingRoute;
    }
    return semconv.admitRoute(mappingRoute);
  }

  /**
   * The duration's attributes. Without a failure the {@code error.type} follows from the status
   * (its code for a 5xx), so the whole set is cached by route, key and status.
   */
  private Attributes durationAttributes(int key, int status, String route, String errorType) {
    int slot = status > 0 && status < STATUS_SLOT.length ? STATUS_SLOT[status] : -1;
    if (errorType != null || slot < 0) {
      return build(key, status, route, errorType, true);
    }
    Attributes[][] byKey = route == null ? noRoute : byRoute.get(route);
    if (byKey == null) {
      if (cachedCombinations.get() >= MAX_CACHED_COMBINATIONS) {
        return build(key, status, route, null, true);
      }
      byKey = byRoute.computeIfAbsent(route, r -> new Attributes[KEYS][]);
    }
    Attributes[] byStatus = byKey[key];
    if (byStatus == null) {
      if (cachedCombinations.incrementAndGet() > MAX_CACHED_COMBINATIONS) {
        cachedCombinations.decrementAndGet();
        return build(key, status, route, null, true);
      }
      // A race allocates the array twice at worst; the loser's entries are rebuilt on use.
      byStatus = new Attributes[CACHED_STATUSES.length];
      byKey[key] = byStatus;
    }
    Attributes attributes = byStatus[slot];
    if (attributes == null) {
      // Attributes are immutable with final fields, so publishing them through a plain array is
      // safe; a race builds an equal set twice at worst.
      attributes = build(key, status, route, null, true);
      byStatus[slot] = attributes;
    }
    return attributes;
  }

  private Attributes build(
      int key, int status, String route, String errorType, boolean errorStatus) {
    AttributesBuilder b = baseAttributes[key].toBuilder();
    if (status > 0) {
      b.put(HttpAttributes.HTTP_RESPONSE_STATUS_CODE, (long) status);
    }
    if (route != null) {
      b.put(HttpAttributes.HTTP_ROUTE, route);
    }
    if (errorType == null && errorStatus && status >= 500) {
      errorType = Integer.toString(status);
    }
    if (errorType != null) {
      b.put(ErrorAttributes.ERROR_TYPE, errorType);
    }
    return b.build();
  }

  private static int methodIndex(String semconvMethod) {
    if (semconvMethod == null) {
      return METHODS.length - 1;
    }
    return switch (semconvMethod) {
      case "GET" -> 0;
      case "HEAD" -> 1;
      case "POST" -> 2;
      case "PUT" -> 3;
      case "DELETE" -> 4;
      case "CONNECT" -> 5;
      case "OPTIONS" -> 6;
      case "TRACE" -> 7;
      case "PATCH" -> 8;
      default -> METHODS.length - 1;
    };
  }

  private static int schemeIndex(String scheme) {
    if ("http".equalsIgnoreCase(scheme)) {
      return 0;
    }
    if ("https".equalsIgnoreCase(scheme)) {
      return 1;
    }
    return 2;
  }

  /** {@code HTTP/1.1} to {@code 1.1}, {@code HTTP/2.0} to {@code 2}; unknown ones are not set. */
  private static int protocolIndex(String protocol) {
    if (protocol == null) {
      return 0;
    }
    return switch (protocol) {
      case "HTTP/1.1" -> 2;
      case "HTTP/2.0", "HTTP/2" -> 3;
      case "HTTP/1.0" -> 1;
      case "HTTP/3.0", "HTTP/3" -> 4;
      default -> 0;
    };
  }
}
