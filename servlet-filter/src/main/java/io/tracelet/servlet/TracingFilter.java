package io.tracelet.servlet;

import io.opentelemetry.api.GlobalOpenTelemetry;
import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.baggage.propagation.W3CBaggagePropagator;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.Scope;
import io.opentelemetry.context.propagation.TextMapPropagator;
import io.tracelet.servlet.internal.DisconnectDetector;
import io.tracelet.servlet.internal.Exchange;
import io.tracelet.servlet.internal.Exchange.FailureKind;
import io.tracelet.servlet.internal.Failures;
import io.tracelet.servlet.internal.FilterMetrics;
import io.tracelet.servlet.internal.IsolatedPropagator;
import io.tracelet.servlet.internal.RequestInfo;
import io.tracelet.servlet.internal.ServerTracing;
import io.tracelet.servlet.internal.Settings;
import jakarta.servlet.DispatcherType;
import jakarta.servlet.Filter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.FilterConfig;
import jakarta.servlet.ServletContext;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletRequestWrapper;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.http.HttpServletMapping;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Gives every request its context: trace context and request ID read from the headers (or created),
 * a server span, a deadline, cancellation when the client leaves, and the IDs echoed in the
 * response. It never fails a request because of tracing.
 *
 * <p>Map it to {@code /*} for the {@code REQUEST} and {@code ASYNC} dispatcher types, with async
 * support on:
 *
 * <pre>{@code
 * FilterHolder holder = new FilterHolder(new TracingFilter(TracingConfig.builder()
 *     .requestTimeout(Duration.ofSeconds(5))
 *     .build()));
 * holder.setAsyncSupported(true);
 * context.addFilter(holder, "/*", EnumSet.of(DispatcherType.REQUEST, DispatcherType.ASYNC));
 * }</pre>
 *
 * <p>Settings come from the {@link TracingConfig} given here, then init-params, then system
 * properties {@code tracelet.<name>}, then environment variables {@code TRACELET_<NAME>}. An
 * unknown init-param or an invalid value fails {@link #init} with a message saying what to change.
 */
public final class TracingFilter implements Filter {

  /**
   * The servlet-context attribute where the filter looks for an {@link OpenTelemetry} when none is
   * set in its {@link TracingConfig} (before falling back to {@link GlobalOpenTelemetry}).
   */
  public static final String OPEN_TELEMETRY_ATTRIBUTE = OpenTelemetry.class.getName();

  /**
   * The servlet-context attribute where the filter publishes its {@link OutboundPropagator} (the
   * configured propagators with the baggage allow-list), for the application's HTTP clients.
   */
  public static final String OUTBOUND_PROPAGATOR_ATTRIBUTE = OutboundPropagator.class.getName();

  /** The request attribute holding the route set by {@link #setRoute}. */
  public static final String ROUTE_ATTRIBUTE = "io.tracelet.servlet.route";

  static final String STATE_ATTRIBUTE = RequestState.class.getName();

  private static final String JETTY_REQUEST = "org.eclipse.jetty.server.Request";
  private static final String JETTY_DETECTOR = "io.tracelet.servlet.jetty.JettyDisconnectDetector";

  private static final Logger log = LoggerFactory.getLogger(TracingFilter.class);

  private final TracingConfig config;
  private final LongAdder leakedContexts = new LongAdder();
  private final LongAdder joinedContexts = new LongAdder();
  private final AtomicBoolean leakLogged = new AtomicBoolean();
  private final AtomicBoolean failureLogged = new AtomicBoolean();
  private volatile ServerTracing core;
  private volatile DisconnectDetector detector = DisconnectDetector.NONE;
  private volatile OutboundPropagator outbound;

  /** A filter configured by init-params, system properties and environment variables only. */
  public TracingFilter() {
    this(TracingConfig.defaults());
  }

  /** A filter configured by {@code config} first, then the other sources. */
  public TracingFilter(TracingConfig config) {
    this.config = Objects.requireNonNull(config, "config");
  }

  /**
   * Names the request's route (a template such as {@code /tasks/{id}}, never the raw path), for the
   * span name and {@code http.route}. Call it while handling the request; it wins over the servlet
   * mapping.
   */
  public static void setRoute(ServletRequest request, String route) {
    Objects.requireNonNull(request, "request");
    Objects.requireNonNull(route, "route");
    request.setAttribute(ROUTE_ATTRIBUTE, route);
  }

  @Override
  public void init(FilterConfig filterConfig) throws ServletException {
    Map<String, String> params = initParams(filterConfig);
    ServletContext servletContext = filterConfig.getServletContext();
    try {
      init(params, servletContext, System::getProperty, System::getenv);
    } catch (IllegalArgumentException e) {
      throw new ServletException(
          "TracingFilter '" + filterConfig.getFilterName() + "': " + e.getMessage(), e);
    }
  }

  void init(
      Map<String, String> params,
      ServletContext servletContext,
      Function<String, String> systemProperty,
      Function<String, String> environment) {
    List<String> unknown = new ArrayList<>();
    for (String name : params.keySet()) {
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
    Settings settings = Settings.resolve(config, params::get, systemProperty, environment);
    OpenTelemetry otel = openTelemetry(servletContext);
    if (ServerTracing.isNoop(otel)) {
      // Once per filter, at start-up: the most common reason for "no traces" is that nothing
      // installed an SDK, and without this line it looks as if Tracelet dropped them.
      log.warn(
          "Tracelet: no OpenTelemetry SDK is set up (the OpenTelemetry in use is a no-op), so no"
              + " spans are recorded; requests are still served, with trace IDs, request IDs and"
              + " deadlines. To record spans, set one up before the filter starts: call"
              + " TraceletOpenTelemetry.initialize() (tracelet-sdk), pass an OpenTelemetry in"
              + " TracingConfig.builder().openTelemetry(..), or run the OpenTelemetry Java agent.");
    }
    FilterMetrics metrics = new FilterMetrics(otel);
    TextMapPropagator configured =
        config.propagator() != null
            ? config.propagator()
            : incomingPropagator(settings, otel, systemProperty, environment);
    // Re-wrapped with this filter's counters; the parts listed by name or in the builder stay
    // separately isolated.
    IsolatedPropagator propagator = IsolatedPropagator.of(List.of(configured), metrics);
    core = new ServerTracing(settings, otel, propagator, metrics);
    outbound = OutboundPropagator.wrap(propagator, settings.baggageAllowList());
    if (servletContext != null
        && servletContext.getAttribute(OUTBOUND_PROPAGATOR_ATTRIBUTE) == null) {
      servletContext.setAttribute(OUTBOUND_PROPAGATOR_ATTRIBUTE, outbound);
    }
    detector =
        settings.detectDisconnect()
            ? chooseDetector(TracingFilter.class.getClassLoader())
            : DisconnectDetector.NONE;
  }

  private static Map<String, String> initParams(FilterConfig filterConfig) {
    Map<String, String> params = new java.util.LinkedHashMap<>();
    if (filterConfig.getInitParameterNames() != null) {
      for (String name : Collections.list(filterConfig.getInitParameterNames())) {
        params.put(name, filterConfig.getInitParameter(name));
      }
    }
    return params;
  }

  private OpenTelemetry openTelemetry(ServletContext servletContext) {
    if (config.openTelemetry() != null) {
      return config.openTelemetry();
    }
    Object attr =
        servletContext == null ? null : servletContext.getAttribute(OPEN_TELEMETRY_ATTRIBUTE);
    if (attr instanceof OpenTelemetry otel) {
      return otel;
    }
    return GlobalOpenTelemetry.get();
  }

  /**
   * The propagator for incoming requests: the builder's, else the {@code propagators} setting, else
   * the OpenTelemetry instance's (when it has any), else {@code otel.propagators} / {@code
   * OTEL_PROPAGATORS}, else W3C trace context and baggage.
   */
  static TextMapPropagator incomingPropagator(
      Settings settings,
      OpenTelemetry otel,
      Function<String, String> systemProperty,
      Function<String, String> environment) {
    TextMapPropagator fromConfig = settings.propagators();
    if (fromConfig != null) {
      return fromConfig;
    }
    TextMapPropagator fromOtel = otel.getPropagators().getTextMapPropagator();
    if (!fromOtel.fields().isEmpty()) {
      return fromOtel;
    }
    TextMapPropagator fromEnv = Settings.otelPropagators(systemProperty, environment);
    if (fromEnv != null) {
      return fromEnv;
    }
    return IsolatedPropagator.of(
        List.of(W3CTraceContextPropagator.getInstance(), W3CBaggagePropagator.getInstance()),
        FilterMetrics.NOOP);
  }

  /**
   * The Jetty adapter when Jetty's server classes and the adapter are both loadable; elsewhere
   * nothing detects a client that leaves (deadlines still cancel everywhere).
   */
  static DisconnectDetector chooseDetector(ClassLoader loader) {
    try {
      Class.forName(JETTY_REQUEST, false, loader);
      Class<?> type = Class.forName(JETTY_DETECTOR, true, loader);
      return (DisconnectDetector) type.getConstructor().newInstance();
    } catch (ClassNotFoundException | LinkageError e) {
      return DisconnectDetector.NONE;
    } catch (ReflectiveOperationException | RuntimeException e) {
      log.warn("Tracelet: the Jetty disconnect detector could not be created", e);
      return DisconnectDetector.NONE;
    }
  }

  /** The propagator outbound clients should inject with (baggage limited to the allow-list). */
  public OutboundPropagator outboundPropagator() {
    OutboundPropagator p = outbound;
    if (p == null) {
      throw new IllegalStateException("TracingFilter.init has not run yet");
    }
    return p;
  }

  /**
   * How many requests found a context left behind on their thread by earlier code (and were started
   * from the root context instead).
   */
  public long leakedContextCount() {
    return leakedContexts.sum();
  }

  /**
   * How many requests arrived inside an outer instrumentation's request context (such as the
   * OpenTelemetry Java agent's server span) and were joined to it instead of getting a server span
   * of their own.
   */
  public long joinedContextCount() {
    return joinedContexts.sum();
  }

  /**
   * How many server spans a span processor failed to end ({@code onEnd} threw). Those requests were
   * served and their context closed; the span may be missing from the processors after the broken
   * one. A processor that <em>blocks</em> in {@code onEnd} is not guarded against: OpenTelemetry
   * runs {@code onEnd} on the thread that ends the span, here the request's thread.
   */
  public long spanEndFailureCount() {
    ServerTracing c = core;
    return c == null ? 0 : c.spanEndFailureCount();
  }

  /** The disconnect detector in use; for tests. */
  DisconnectDetector detector() {
    return detector;
  }

  @Override
  public void doFilter(ServletRequest req, ServletResponse res, FilterChain chain)
      throws IOException, ServletException {
    ServerTracing c = core;
    if (c == null
        || !(req instanceof HttpServletRequest request)
        || !(res instanceof HttpServletResponse response)) {
      chain.doFilter(req, res);
      return;
    }
    Object existing = request.getAttribute(STATE_ATTRIBUTE);
    if (existing == null) {
      existing = wrappedState(request);
    }
    DispatcherType type = request.getDispatcherType();
    if (type == DispatcherType.ASYNC && existing instanceof RequestState state) {
      resume(state, request, response, chain);
      return;
    }
    if (type != DispatcherType.REQUEST || existing != null) {
      // Forwards, includes and error pages run inside the request that is already traced.
      chain.doFilter(req, res);
      return;
    }
    RequestState state = begin(c, request, response);
    if (state == null) {
      chain.doFilter(req, res);
      return;
    }
    try (Scope ignored = state.exchange.context().makeCurrent()) {
      chain.doFilter(new TracingRequest(request, state), response);
    } catch (Throwable t) {
      if (!afterChain(state, t)) {
        throw t;
      }
      return;
    }
    afterChain(state, null);
  }

  /**
   * The state of a request this filter already traces, found through its {@link TracingRequest}
   * (another instance of the filter further down the chain sees it); the request attribute is only
   * set once an asynchronous cycle starts, because setting one costs Jetty a map per request.
   */
  static RequestState wrappedState(ServletRequest request) {
    ServletRequest r = request;
    while (r instanceof ServletRequestWrapper wrapper) {
      if (wrapper instanceof TracingRequest tracing) {
        return tracing.state;
      }
      r = wrapper.getRequest();
    }
    return null;
  }

  /** Our part before the application runs; null when it failed (the request then runs untraced). */
  private RequestState begin(
      ServerTracing c, HttpServletRequest request, HttpServletResponse response) {
    Exchange exchange = null;
    try {
      Context entry = Context.current();
      Context outer = null;
      if (entry == Context.root()) {
        // The usual case: nothing in front of us set a context.
      } else if (ServerTracing.isOuterRequestContext(entry)) {
        // An outer instrumentation of this request (the OpenTelemetry Java agent's server span):
        // join it rather than start a second server span in a trace of its own.
        outer = entry;
        joinedContexts.increment();
      } else {
        // A pooled thread still carrying someone's context: a scope was not closed. Inheriting it
        // would mix another request's trace and values into this one.
        leakedContexts.increment();
        if (leakLogged.compareAndSet(false, true)) {
          log.warn(
              "Tracelet: a request thread still carried a context from earlier code (a Scope was"
                  + " not closed); requests start from the root context. Counted in"
                  + " TracingFilter.leakedContextCount(); logged once.");
        }
      }
      exchange = c.begin(requestInfo(request), new ServletHeaders(request), outer);
      RequestState state = new RequestState(exchange, request, response);
      exchange.writeResponseHeaders(state);
      exchange.setWatch(detector.watch(request, state));
      return state;
    } catch (RuntimeException e) {
      logFailure(e);
      if (exchange != null) {
        exchange.finish(0, null, false, null);
      }
      return null;
    }
  }

  /** Continues an asynchronous dispatch in the request's context. */
  private void resume(
      RequestState state,
      HttpServletRequest request,
      HttpServletResponse response,
      FilterChain chain)
      throws IOException, ServletException {
    try (Scope ignored = state.exchange.context().makeCurrent()) {
      chain.doFilter(new TracingRequest(request, state), response);
    } catch (Throwable t) {
      if (!afterChain(state, t)) {
        throw t;
      }
      return;
    }
    afterChain(state, null);
  }

  /**
   * Records the outcome once the application returned or threw; finishes the exchange unless an
   * asynchronous cycle is under way (the listener finishes it then). Returns whether {@code
   * failure} was answered here and must not be rethrown.
   */
  private boolean afterChain(RequestState state, Throwable failure) {
    Exchange exchange = state.exchange;
    HttpServletResponse response = state.response;
    boolean absorbed = false;
    Throwable toRecord = failure;
    try {
      boolean async = state.isListening() || state.request.isAsyncStarted();
      if (failure != null) {
        FailureKind kind = exchange.classify(failure);
        if (kind == FailureKind.CLIENT_GONE) {
          log.info(
              "Tracelet: request {} cancelled because the client disconnected",
              exchange.requestId());
          absorbed = true;
          toRecord = null;
        } else if (kind == FailureKind.DEADLINE_EXCEEDED
            && !response.isCommitted()
            && !state.request.isAsyncStarted()) {
          response.sendError(HttpServletResponse.SC_GATEWAY_TIMEOUT);
          absorbed = true;
        }
      }
      if (async) {
        exchange.recordFailure(toRecord);
        if (!state.isListening() && state.request.isAsyncStarted()) {
          // Async started on the unwrapped request: listen from now on.
          state.onStartAsync(state.request.getAsyncContext());
        }
      } else {
        state.finish(toRecord);
      }
    } catch (IOException | RuntimeException e) {
      logFailure(e);
      exchange.finish(response.getStatus(), failure, response.isCommitted(), null);
    }
    return absorbed;
  }

  static String routeOf(HttpServletRequest request) {
    Object route = request.getAttribute(ROUTE_ATTRIBUTE);
    return route instanceof String s ? s : null;
  }

  private static RequestInfo requestInfo(HttpServletRequest request) {
    String servletPath = request.getServletPath();
    String pathInfo = request.getPathInfo();
    // Concatenated only when both parts are there: usually one of them is empty.
    String pathInContext;
    if (pathInfo == null || pathInfo.isEmpty()) {
      pathInContext = servletPath == null ? "" : servletPath;
    } else if (servletPath == null || servletPath.isEmpty()) {
      pathInContext = pathInfo;
    } else {
      pathInContext = servletPath + pathInfo;
    }
    return new RequestInfo(
        request.getMethod(),
        request.getRequestURI(),
        pathInContext.isEmpty() ? "/" : pathInContext,
        request.getQueryString(),
        request.getScheme(),
        request.getServerName(),
        request.getServerPort(),
        request.getRemoteAddr(),
        mappingRoute(request),
        request.getProtocol());
  }

  /**
   * The route from the servlet mapping: the pattern of an exact, path or extension mapping, under
   * the context path. The default servlet ({@code /}) matches every path, so it names no route.
   */
  static String mappingRoute(HttpServletRequest request) {
    HttpServletMapping mapping = request.getHttpServletMapping();
    if (mapping == null || mapping.getMappingMatch() == null) {
      return null;
    }
    String contextPath = request.getContextPath() == null ? "" : request.getContextPath();
    String pattern = mapping.getPattern();
    return switch (mapping.getMappingMatch()) {
      case EXACT, PATH -> contextPath.isEmpty() ? pattern : contextPath + pattern;
      case EXTENSION -> contextPath + "/" + pattern;
      case CONTEXT_ROOT -> contextPath + "/";
      case DEFAULT -> null;
    };
  }

  private void logFailure(Exception e) {
    if (failureLogged.compareAndSet(false, true)) {
      // The exception may come from a span processor whose message quotes request data; the whole
      // exception is at DEBUG.
      log.error(
          "Tracelet: tracing failed with {}; the request continues untraced (logged once)",
          Failures.describe(e));
      log.debug("Tracelet: tracing failed", e);
    } else {
      log.debug("Tracelet: tracing failed", e);
    }
  }

  @Override
  public void destroy() {
    core = null;
  }
}
