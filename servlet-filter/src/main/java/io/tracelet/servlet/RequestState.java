package io.tracelet.servlet;

import io.tracelet.servlet.internal.container.ContainerHeaders;
import io.tracelet.servlet.internal.container.DisconnectDetector;
import io.tracelet.servlet.internal.container.RequestFacts;
import io.tracelet.servlet.internal.server.CapturedHeaders;
import io.tracelet.servlet.internal.server.Exchange;
import io.tracelet.servlet.internal.server.Exchange.FailureKind;
import io.tracelet.servlet.internal.server.HeaderSink;
import io.tracelet.servlet.internal.server.ServerRequest;
import io.tracelet.servlet.internal.server.ServerTracing;
import jakarta.servlet.AsyncContext;
import jakarta.servlet.AsyncEvent;
import jakarta.servlet.AsyncListener;
import jakarta.servlet.http.HttpServletMapping;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Enumeration;
import java.util.List;
import java.util.concurrent.atomic.AtomicIntegerFieldUpdater;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The servlet side of one traced request, and its one owner: the request adapter the handler reads
 * ({@link ServerRequest}), where it writes the response headers ({@link HeaderSink}), what the
 * disconnect detector runs when the client leaves ({@link Runnable}), and the {@link AsyncListener}
 * that ends an asynchronous request. Synchronous and asynchronous requests end through the same
 * {@link #afterChain} and {@link #end}. One object per request instead of five (the filter's
 * allocation per request is measured in benchmarks/README.md).
 */
final class RequestState extends CapturedHeaders
    implements ServerRequest, HeaderSink, Runnable, AsyncListener {

  private static final Logger log = LoggerFactory.getLogger(TracingFilter.class);

  private static final AtomicIntegerFieldUpdater<RequestState> LISTENING =
      AtomicIntegerFieldUpdater.newUpdater(RequestState.class, "listening");

  final HttpServletRequest request;
  final HttpServletResponse response;
  private final ServerTracing handler;
  private final ContainerHeaders headers;
  // Set once by begin(), before this object is handed to the detector or registered as a listener;
  // volatile so that a container thread that runs those callbacks sees it whatever the container's
  // own publication (a volatile read costs the request thread nothing measurable).
  private volatile Exchange exchange;
  private volatile int listening;
  // Set by begin(), before the application runs; told when it starts an asynchronous cycle, and
  // closed when the request ends, before the handler records the outcome.
  private DisconnectDetector.Watch watch = DisconnectDetector.Watch.NONE;
  // The client address and server name and port, when the container keeps them (null: the
  // servlet API is asked). Looked up on the first read, on the request thread: only a span of our
  // own reads them, so an excluded or joined request does not look them up at all.
  private RequestFacts facts;
  private boolean factsLookedUp;

  private RequestState(
      ServerTracing handler,
      ContainerHeaders headers,
      HttpServletRequest request,
      HttpServletResponse response) {
    this.handler = handler;
    this.headers = headers;
    this.request = request;
    this.response = response;
  }

  /**
   * Starts tracing {@code request}: the handler builds its context and writes the response headers,
   * and {@code detector} starts watching for a client that leaves. Null when our own code failed
   * (the request then runs untraced).
   */
  static RequestState begin(
      ServerTracing handler,
      DisconnectDetector detector,
      ContainerHeaders headers,
      HttpServletRequest request,
      HttpServletResponse response) {
    RequestState state = new RequestState(handler, headers, request, response);
    headers.read(request, handler.headerIndex(), state);
    Exchange exchange = handler.begin(state, state);
    if (exchange == null) {
      return null;
    }
    state.exchange = exchange;
    try {
      state.watch = detector.watch(request, state);
    } catch (RuntimeException e) {
      // The request stays traced; only a client that leaves goes unnoticed.
      log.debug("Tracelet: not watching this request for a client disconnect", e);
    }
    return state;
  }

  Exchange exchange() {
    return exchange;
  }

  /**
   * Records the outcome once the application returned or threw, and ends the request unless an
   * asynchronous cycle is under way (the listener ends it then). Returns whether {@code failure}
   * was answered here and must not be rethrown: a client that left is logged, not reported, and a
   * deadline that passed before anything was committed is answered with 504.
   */
  boolean afterChain(Throwable failure) {
    boolean absorbed = false;
    Throwable toRecord = failure;
    try {
      boolean async = isListening() || request.isAsyncStarted();
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
            && !request.isAsyncStarted()) {
          response.sendError(HttpServletResponse.SC_GATEWAY_TIMEOUT);
          absorbed = true;
        }
      }
      if (async) {
        exchange.recordFailure(toRecord);
        if (!isListening() && request.isAsyncStarted()) {
          // Async started on the unwrapped request: listen from now on.
          onStartAsync(request.getAsyncContext());
        }
      } else {
        end(toRecord);
      }
    } catch (IOException | RuntimeException e) {
      handler.failed(e);
      finish(response.getStatus(), failure, response.isCommitted(), null);
    }
    return absorbed;
  }

  /** Ends the request: the handler records the outcome, ends the span, closes the context. */
  void end(Throwable failure) {
    finish(response.getStatus(), failure, response.isCommitted(), TracingFilter.routeOf(request));
  }

  /**
   * Closes the disconnect watch (idempotent), then lets the handler end the exchange (only its
   * first call does anything).
   */
  private void finish(int status, Throwable failure, boolean committed, String route) {
    try {
      watch.close();
    } catch (RuntimeException e) {
      // A detector that fails to clean up must not break the request's completion.
      log.debug("Tracelet: the disconnect watch could not be closed", e);
    }
    handler.end(exchange, status, failure, committed, route);
  }

  /** Whether an asynchronous cycle was seen, so that the listener ends the request. */
  boolean isListening() {
    return listening != 0;
  }

  /**
   * Registers this listener on the first asynchronous cycle; later cycles re-register it in {@link
   * #onStartAsync(AsyncEvent)}. Returns an async context whose {@code start(Runnable)} runs in the
   * request context.
   */
  AsyncContext onStartAsync(AsyncContext asyncContext) {
    if (LISTENING.compareAndSet(this, 0, 1)) {
      // Asynchronous dispatches of this request find the state here; set now, before the
      // application can dispatch, and not for every request (see TracingFilter.wrappedState).
      request.setAttribute(TracingFilter.STATE_ATTRIBUTE, this);
      asyncContext.addListener(this, request, response);
      // Still on the dispatch that started the cycle (startAsync, or afterChain before returning):
      // the watch now outlives it, and is closed by the listener.
      try {
        watch.asyncStarted();
      } catch (RuntimeException e) {
        // Closed now rather than left registered past the dispatch: only the disconnect goes
        // unseen.
        watch.close();
        log.debug("Tracelet: the disconnect watch could not follow the asynchronous request", e);
      }
    }
    return new TracingAsyncContext(asyncContext, exchange.context());
  }

  // --- HeaderSink: the response headers, written before the application runs.

  @Override
  public void set(String name, String value) {
    if (!headers.set(response, name, value)) {
      response.setHeader(name, value);
    }
  }

  // --- Runnable: the client disconnected.

  @Override
  public void run() {
    exchange.clientDisconnected();
  }

  // --- AsyncListener

  @Override
  public void onComplete(AsyncEvent event) {
    end(null);
  }

  @Override
  public void onTimeout(AsyncEvent event) {
    exchange.asyncTimedOut();
  }

  @Override
  public void onError(AsyncEvent event) {
    exchange.recordFailure(event.getThrowable());
  }

  @Override
  public void onStartAsync(AsyncEvent event) {
    // The container drops listeners when an asynchronous cycle starts again: stay registered.
    event.getAsyncContext().addListener(this, request, response);
  }

  // --- ServerRequest: read from the servlet request when the handler asks, nothing copied.

  @Override
  public String method() {
    return request.getMethod();
  }

  @Override
  public String path() {
    return request.getRequestURI();
  }

  @Override
  public String pathInContext() {
    String servletPath = request.getServletPath();
    String pathInfo = request.getPathInfo();
    // Concatenated only when both parts are there: usually one of them is empty.
    String path;
    if (pathInfo == null || pathInfo.isEmpty()) {
      path = servletPath == null ? "" : servletPath;
    } else if (servletPath == null || servletPath.isEmpty()) {
      path = pathInfo;
    } else {
      path = servletPath + pathInfo;
    }
    return path.isEmpty() ? "/" : path;
  }

  @Override
  public String query() {
    return request.getQueryString();
  }

  @Override
  public String scheme() {
    return request.getScheme();
  }

  private RequestFacts facts() {
    if (!factsLookedUp) {
      facts = headers.facts(request);
      factsLookedUp = true;
    }
    return facts;
  }

  @Override
  public String serverAddress() {
    RequestFacts f = facts();
    return f != null ? f.serverName() : request.getServerName();
  }

  @Override
  public int serverPort() {
    RequestFacts f = facts();
    return f != null ? f.serverPort() : request.getServerPort();
  }

  @Override
  public String clientAddress() {
    RequestFacts f = facts();
    return f != null ? f.clientAddress() : request.getRemoteAddr();
  }

  @Override
  public String protocol() {
    return request.getProtocol();
  }

  /**
   * The route from the servlet mapping: the pattern of an exact, path or extension mapping, under
   * the context path. The default servlet ({@code /}) matches every path, so it names no route.
   */
  @Override
  public String mappingRoute() {
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

  // The request's headers in the container, for what was not captured (CapturedHeaders); servlet
  // header lookup ignores case.

  @Override
  protected Iterable<String> containerNames() {
    Enumeration<String> names = request.getHeaderNames();
    return names == null ? List.of() : Collections.list(names);
  }

  @Override
  protected List<String> containerValues(String name) {
    Enumeration<String> values = request.getHeaders(name);
    if (values == null || !values.hasMoreElements()) {
      return List.of();
    }
    List<String> out = new ArrayList<>(2);
    while (values.hasMoreElements()) {
      out.add(values.nextElement());
    }
    return out;
  }

  @Override
  protected String containerFirst(String name) {
    return request.getHeader(name);
  }

  @Override
  protected String containerSingle(String name) {
    Enumeration<String> values = request.getHeaders(name);
    if (values == null || !values.hasMoreElements()) {
      return null;
    }
    String value = values.nextElement();
    return values.hasMoreElements() ? null : value;
  }
}
