package io.tracelet.servlet;

import io.opentelemetry.api.GlobalOpenTelemetry;
import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.context.Scope;
import io.tracelet.servlet.internal.container.ContainerAdapters;
import io.tracelet.servlet.internal.container.ContainerHeaders;
import io.tracelet.servlet.internal.container.DisconnectDetector;
import io.tracelet.servlet.internal.server.ServerTracing;
import jakarta.servlet.DispatcherType;
import jakarta.servlet.Filter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.FilterConfig;
import jakarta.servlet.ServletContext;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletRequestWrapper;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;

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

  private final TracingConfig config;
  private volatile ServerTracing core;
  private volatile DisconnectDetector detector = DisconnectDetector.NONE;
  private volatile ContainerHeaders headers = ContainerHeaders.SERVLET_API;
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
    ServerTracing handler =
        ServerTracing.create(
            config, params, openTelemetry(servletContext), systemProperty, environment);
    outbound = handler.outboundPropagator();
    if (servletContext != null
        && servletContext.getAttribute(OUTBOUND_PROPAGATOR_ATTRIBUTE) == null) {
      servletContext.setAttribute(OUTBOUND_PROPAGATOR_ATTRIBUTE, outbound);
    }
    ClassLoader loader = TracingFilter.class.getClassLoader();
    detector =
        handler.settings().detectDisconnect
            ? ContainerAdapters.disconnectDetector(loader)
            : DisconnectDetector.NONE;
    headers = ContainerAdapters.headers(loader);
    core = handler;
  }

  private static Map<String, String> initParams(FilterConfig filterConfig) {
    Map<String, String> params = new LinkedHashMap<>();
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
    ServerTracing c = core;
    return c == null ? 0 : c.leakedContextCount();
  }

  /**
   * How many requests arrived inside an outer instrumentation's request context (such as the
   * OpenTelemetry Java agent's server span) and were joined to it instead of getting a server span
   * of their own.
   */
  public long joinedContextCount() {
    ServerTracing c = core;
    return c == null ? 0 : c.joinedContextCount();
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
      // An asynchronous dispatch continues in the request's context.
      runInContext(state, request, response, chain);
      return;
    }
    if (type != DispatcherType.REQUEST || existing != null) {
      // Forwards, includes and error pages run inside the request that is already traced.
      chain.doFilter(req, res);
      return;
    }
    RequestState state = RequestState.begin(c, detector, headers, request, response);
    if (state == null) {
      chain.doFilter(req, res);
      return;
    }
    runInContext(state, request, response, chain);
  }

  /**
   * Calls the chain once in the request's context, with the request and response of this dispatch
   * (an asynchronous dispatch may hand over others than the first); the state records the outcome.
   */
  private static void runInContext(
      RequestState state,
      HttpServletRequest request,
      HttpServletResponse response,
      FilterChain chain)
      throws IOException, ServletException {
    try (Scope ignored = state.exchange().context().makeCurrent()) {
      chain.doFilter(new TracingRequest(request, state), response);
    } catch (Throwable t) {
      if (!state.afterChain(t)) {
        throw t;
      }
      return;
    }
    state.afterChain(null);
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

  static String routeOf(HttpServletRequest request) {
    Object route = request.getAttribute(ROUTE_ATTRIBUTE);
    return route instanceof String s ? s : null;
  }

  @Override
  public void destroy() {
    core = null;
  }
}
