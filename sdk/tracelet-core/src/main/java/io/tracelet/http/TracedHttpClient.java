package io.tracelet.http;

import io.opentelemetry.api.GlobalOpenTelemetry;
import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.propagation.TextMapPropagator;
import io.opentelemetry.context.propagation.TextMapSetter;
import io.tracelet.CancellableContext;
import io.tracelet.Cancellation;
import io.tracelet.ContextDoneException;
import io.tracelet.DeadlineHeader;
import io.tracelet.RequestId;
import io.tracelet.internal.OutboundPropagation;
import java.io.IOException;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.net.Authenticator;
import java.net.ConnectException;
import java.net.CookieHandler;
import java.net.ProxySelector;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.time.Duration;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;

/** The client behind {@link ContextHttpClient}: see there. */
final class TracedHttpClient extends HttpClient {

  private static final String INSTRUMENTATION_NAME = "io.tracelet.http";
  private static final long MIN_REMAINING_NANOS = TimeUnit.MILLISECONDS.toNanos(1);
  private static final Set<String> KNOWN_METHODS =
      Set.of("CONNECT", "DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT", "TRACE");
  private static final TextMapSetter<HttpRequest.Builder> SETTER =
      (builder, name, value) -> builder.setHeader(name, value);

  private final HttpClient delegate;
  private final OpenTelemetry openTelemetry; // null: GlobalOpenTelemetry, looked up per call
  private final TextMapPropagator propagator; // null: the request's, else the OpenTelemetry's
  private final String requestIdHeader;
  private final String deadlineHeader;
  private final boolean grpcTimeout; // the deadline header is grpc-timeout: values carry a unit

  TracedHttpClient(
      HttpClient delegate,
      OpenTelemetry openTelemetry,
      TextMapPropagator propagator,
      String requestIdHeader,
      String deadlineHeader) {
    this.delegate = delegate;
    this.openTelemetry = openTelemetry;
    this.propagator = propagator;
    this.requestIdHeader = requestIdHeader;
    this.deadlineHeader = deadlineHeader;
    this.grpcTimeout = DeadlineHeader.isGrpcTimeout(deadlineHeader);
  }

  @Override
  public <T> HttpResponse<T> send(HttpRequest request, HttpResponse.BodyHandler<T> handler)
      throws IOException, InterruptedException {
    CompletableFuture<HttpResponse<T>> result = start(request, handler, null, true);
    try {
      return result.get();
    } catch (InterruptedException e) {
      // As the JDK's own send() does since JDK 16: an interrupted caller abandons the exchange.
      result.cancel(true);
      throw e;
    } catch (ExecutionException e) {
      throw rethrow(e.getCause());
    } catch (CancellationException e) {
      // JDK 23+ get() wraps the stored exception in a new CancellationException("get"): unwrap it,
      // so the caller of send() gets the context's cause on every JDK.
      throw e.getCause() instanceof ContextDoneException ? (ContextDoneException) e.getCause() : e;
    }
  }

  @Override
  public <T> CompletableFuture<HttpResponse<T>> sendAsync(
      HttpRequest request, HttpResponse.BodyHandler<T> handler) {
    return start(request, handler, null, false);
  }

  @Override
  public <T> CompletableFuture<HttpResponse<T>> sendAsync(
      HttpRequest request,
      HttpResponse.BodyHandler<T> handler,
      HttpResponse.PushPromiseHandler<T> pushPromiseHandler) {
    return start(request, handler, pushPromiseHandler, false);
  }

  private <T> CompletableFuture<HttpResponse<T>> start(
      HttpRequest request,
      HttpResponse.BodyHandler<T> handler,
      HttpResponse.PushPromiseHandler<T> pushPromiseHandler,
      boolean throwRefusal) {
    Context parent = Context.current();
    // A child of the caller's context, owned by this call: closing it detaches our listener, and
    // cancelDeadlineExceeded() turns a timeout the deadline caused into the context's own cause.
    CancellableContext call = CancellableContext.withCancel(parent);
    Cancellation cancellation = call.cancellation();
    long remaining = cancellation.remainingNanos();
    if (!cancellation.isCancelled() && remaining < MIN_REMAINING_NANOS) {
      // Passed (or less than the header's 1 ms resolution left) even if no timer has fired yet:
      // the server could not do anything useful with it.
      call.cancelDeadlineExceeded(null);
    }
    if (cancellation.isCancelled()) {
      ContextDoneException refused = causeOf(cancellation);
      call.close();
      if (throwRefusal) {
        throw refused;
      }
      return CompletableFuture.failedFuture(refused);
    }

    OpenTelemetry otel = openTelemetry != null ? openTelemetry : GlobalOpenTelemetry.get();
    URI uri = request.uri();
    Span span = startSpan(otel.getTracer(INSTRUMENTATION_NAME), parent, request.method(), uri);
    HttpRequest outgoing;
    boolean deadlineBound;
    try {
      HttpRequest.Builder builder = HttpRequest.newBuilder(request, (name, value) -> true);
      propagator(parent, otel).inject(parent.with(span), builder, SETTER);
      RequestId id = RequestId.fromContext(parent);
      if (requestIdHeader != null
          && id != null
          && request.headers().firstValue(requestIdHeader).isEmpty()) {
        builder.setHeader(requestIdHeader, id.value());
      }
      deadlineBound = false;
      if (remaining != Long.MAX_VALUE) {
        Optional<Duration> own = request.timeout();
        if (own.isEmpty() || own.get().toNanos() > remaining) {
          builder.timeout(Duration.ofNanos(remaining));
          deadlineBound = true;
        }
        if (deadlineHeader != null) {
          builder.setHeader(
              deadlineHeader,
              grpcTimeout
                  ? DeadlineHeader.formatGrpcTimeout(remaining)
                  : DeadlineHeader.format(remaining));
        }
      }
      outgoing = builder.build();
    } catch (RuntimeException e) {
      end(span, null, e);
      call.close();
      throw e;
    }

    CompletableFuture<HttpResponse<T>> exchange;
    try {
      exchange =
          pushPromiseHandler == null
              ? delegate.sendAsync(outgoing, handler)
              : delegate.sendAsync(outgoing, handler, pushPromiseHandler);
    } catch (RuntimeException e) {
      end(span, null, e);
      call.close();
      throw e;
    }
    // cancel(true) is what aborts the exchange (JDK 16+); it closes an HTTP/1.1 connection.
    Cancellation.Registration abort = cancellation.onCancel(cause -> exchange.cancel(true));
    CompletableFuture<HttpResponse<T>> result = new CompletableFuture<>();
    boolean bound = deadlineBound;
    exchange.whenComplete(
        (response, error) -> {
          abort.close();
          Throwable failure = error == null ? null : outcome(call, unwrap(error), bound);
          end(span, response, failure);
          call.close();
          if (failure == null) {
            result.complete(response);
          } else {
            result.completeExceptionally(failure);
          }
        });
    // The caller giving up on the result gives up on the exchange.
    result.whenComplete(
        (response, error) -> {
          if (result.isCancelled()) {
            exchange.cancel(true);
          }
        });
    return result;
  }

  /**
   * The propagator for a call made in {@code parent}: the one the client was built with, else the
   * request's (stored by the servlet filter: the configured propagators with only the allow-listed
   * baggage), else the OpenTelemetry instance's. Without the request's, a trusted caller's baggage
   * entries beyond the allow-list would be forwarded to every downstream service (an untrusted
   * caller's baggage never enters the request context).
   */
  private TextMapPropagator propagator(Context parent, OpenTelemetry otel) {
    if (propagator != null) {
      return propagator;
    }
    TextMapPropagator fromRequest = OutboundPropagation.fromContext(parent);
    return fromRequest != null ? fromRequest : otel.getPropagators().getTextMapPropagator();
  }

  /** What the caller should see for a failed exchange: the context's cause if it is done. */
  private Throwable outcome(CancellableContext call, Throwable failure, boolean deadlineBound) {
    Cancellation cancellation = call.cancellation();
    if (!cancellation.isCancelled() && deadlineBound && isRequestTimeout(failure)) {
      call.cancelDeadlineExceeded(failure);
    }
    if (!cancellation.isCancelled()) {
      return failure;
    }
    ContextDoneException done = causeOf(cancellation);
    if (done.getCause() != failure && !(failure instanceof CancellationException)) {
      done.addSuppressed(failure);
    }
    return done;
  }

  private boolean isRequestTimeout(Throwable failure) {
    if (!(failure instanceof HttpTimeoutException)) {
      return false;
    }
    // A connect timeout may be the client's own connectTimeout rather than the request timeout
    // we derived from the deadline; then it is not the deadline's doing.
    return !(failure instanceof HttpConnectTimeoutException) || delegate.connectTimeout().isEmpty();
  }

  private static ContextDoneException causeOf(Cancellation cancellation) {
    try {
      cancellation.throwIfCancelled();
    } catch (ContextDoneException e) {
      return e; // a copy with this thread's stack trace
    }
    throw new IllegalStateException("not cancelled: " + cancellation);
  }

  private static Span startSpan(Tracer tracer, Context parent, String method, URI uri) {
    boolean known = KNOWN_METHODS.contains(method);
    var builder =
        tracer
            .spanBuilder(known ? method : "HTTP")
            .setParent(parent)
            .setSpanKind(SpanKind.CLIENT)
            .setAttribute(
                ClientAttributes.HTTP_REQUEST_METHOD,
                known ? method : ClientAttributes.METHOD_OTHER)
            .setAttribute(ClientAttributes.URL_FULL, UrlRedaction.redact(uri));
    if (!known) {
      builder.setAttribute(ClientAttributes.HTTP_REQUEST_METHOD_ORIGINAL, method);
    }
    if (uri.getHost() != null) {
      builder.setAttribute(ClientAttributes.SERVER_ADDRESS, uri.getHost());
      builder.setAttribute(ClientAttributes.SERVER_PORT, (long) port(uri));
    }
    return builder.startSpan();
  }

  private static int port(URI uri) {
    if (uri.getPort() != -1) {
      return uri.getPort();
    }
    return "https".equalsIgnoreCase(uri.getScheme()) ? 443 : 80;
  }

  private static void end(Span span, HttpResponse<?> response, Throwable failure) {
    if (response != null) {
      int status = response.statusCode();
      span.setAttribute(ClientAttributes.HTTP_RESPONSE_STATUS_CODE, (long) status);
      span.setAttribute(
          ClientAttributes.NETWORK_PROTOCOL_VERSION,
          response.version() == Version.HTTP_2 ? "2" : "1.1");
      if (status >= 400) {
        span.setAttribute(ClientAttributes.ERROR_TYPE, Integer.toString(status));
        span.setStatus(StatusCode.ERROR);
      }
    } else if (failure != null) {
      span.setAttribute(ClientAttributes.ERROR_TYPE, failure.getClass().getName());
      span.setStatus(StatusCode.ERROR, String.valueOf(failure.getMessage()));
      span.recordException(failure);
    }
    span.end();
  }

  private static Throwable unwrap(Throwable t) {
    while ((t instanceof CompletionException || t instanceof ExecutionException)
        && t.getCause() != null) {
      t = t.getCause();
    }
    return t;
  }

  /**
   * Rethrows a failure from the exchange's thread as the JDK's send() does: the same type, with the
   * caller's stack trace and the original as the cause.
   */
  private static IOException rethrow(Throwable t) throws IOException {
    if (t instanceof RuntimeException) {
      throw (RuntimeException) t;
    }
    if (t instanceof Error) {
      throw (Error) t;
    }
    IOException copy;
    String message = t.getMessage();
    if (t instanceof HttpConnectTimeoutException) {
      copy = new HttpConnectTimeoutException(message);
    } else if (t instanceof HttpTimeoutException) {
      copy = new HttpTimeoutException(message);
    } else if (t instanceof ConnectException) {
      copy = new ConnectException(message);
    } else {
      copy = new IOException(message);
    }
    copy.initCause(t);
    return copy;
  }

  @Override
  public Optional<CookieHandler> cookieHandler() {
    return delegate.cookieHandler();
  }

  @Override
  public Optional<Duration> connectTimeout() {
    return delegate.connectTimeout();
  }

  @Override
  public Redirect followRedirects() {
    return delegate.followRedirects();
  }

  @Override
  public Optional<ProxySelector> proxy() {
    return delegate.proxy();
  }

  @Override
  public SSLContext sslContext() {
    return delegate.sslContext();
  }

  @Override
  public SSLParameters sslParameters() {
    return delegate.sslParameters();
  }

  @Override
  public Optional<Authenticator> authenticator() {
    return delegate.authenticator();
  }

  @Override
  public Version version() {
    return delegate.version();
  }

  @Override
  public Optional<Executor> executor() {
    return delegate.executor();
  }

  @Override
  public java.net.http.WebSocket.Builder newWebSocketBuilder() {
    return delegate.newWebSocketBuilder();
  }

  // The lifecycle methods below override HttpClient's on JDK 21+ (where HttpClient is
  // AutoCloseable); this code is compiled for 17, so they reach the delegate reflectively.

  /** Passes {@code shutdown()} on to the decorated client (JDK 21+). */
  public void shutdown() {
    invokeLifecycle("shutdown");
  }

  /** Passes {@code shutdownNow()} on to the decorated client (JDK 21+). */
  public void shutdownNow() {
    invokeLifecycle("shutdownNow");
  }

  /** Passes {@code isTerminated()} on to the decorated client (JDK 21+). */
  public boolean isTerminated() {
    return Boolean.TRUE.equals(invokeLifecycle("isTerminated"));
  }

  /** Passes {@code awaitTermination(Duration)} on to the decorated client (JDK 21+). */
  public boolean awaitTermination(Duration duration) throws InterruptedException {
    try {
      Method m = HttpClient.class.getMethod("awaitTermination", Duration.class);
      return (Boolean) m.invoke(delegate, duration);
    } catch (NoSuchMethodException e) {
      return true;
    } catch (InvocationTargetException e) {
      if (e.getCause() instanceof InterruptedException) {
        throw (InterruptedException) e.getCause();
      }
      throw sneaky(e.getCause());
    } catch (IllegalAccessException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Closes the decorated client (JDK 21+; nothing to do on 17). */
  public void close() {
    invokeLifecycle("close");
  }

  private Object invokeLifecycle(String name) {
    try {
      return HttpClient.class.getMethod(name).invoke(delegate);
    } catch (NoSuchMethodException e) {
      return null;
    } catch (InvocationTargetException e) {
      throw sneaky(e.getCause());
    } catch (IllegalAccessException e) {
      throw new IllegalStateException(e);
    }
  }

  private static RuntimeException sneaky(Throwable t) {
    if (t instanceof RuntimeException) {
      return (RuntimeException) t;
    }
    if (t instanceof Error) {
      throw (Error) t;
    }
    return new IllegalStateException(t);
  }

  @Override
  public String toString() {
    return "ContextHttpClient(" + delegate + ")";
  }
}
