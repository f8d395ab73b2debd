package io.tracelet.spring.boot;

import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.Scope;
import io.opentelemetry.context.propagation.TextMapPropagator;
import io.opentelemetry.context.propagation.TextMapSetter;
import io.tracelet.CancellableContext;
import io.tracelet.Cancellation;
import io.tracelet.ContextDoneException;
import io.tracelet.DeadlineHeader;
import io.tracelet.RequestId;
import java.io.IOException;
import java.net.URI;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpRequest;
import org.springframework.http.client.ClientHttpRequestExecution;
import org.springframework.http.client.ClientHttpRequestInterceptor;
import org.springframework.http.client.ClientHttpResponse;

/**
 * Makes a {@code RestClient} or {@code RestTemplate} call part of the current request's context, as
 * {@code ContextHttpClient} does for the JDK's client: a CLIENT span, the trace context, the
 * request ID and the remaining time (in {@link DeadlineHeader}'s format) in the request's headers,
 * and a call bounded by the context: refused when the context is already done (or has less than a
 * millisecond left), abandoned when it is cancelled or its deadline passes while waiting.
 *
 * <p>The starter adds it to every {@code RestClient.Builder} and {@code RestTemplate} bean; for one
 * built by hand:
 *
 * <pre>{@code
 * RestClient client = RestClient.builder()
 *     .requestInterceptor(new TraceletClientHttpRequestInterceptor(openTelemetry))
 *     .build();
 * }</pre>
 *
 * <p>A call is abandoned by interrupting the calling thread while it waits, which the JDK {@code
 * HttpClient} request factory (Spring Boot's default when no other client library is present)
 * honours at once, as does blocking socket I/O on virtual threads; a factory that ignores
 * interrupts still fails with the context's cause, but only once its own timeout ends the call.
 * When another instrumentation already set the trace headers (Micrometer's RestClient observation,
 * OpenTelemetry's Spring starter), no second span is started and their headers are kept.
 */
public final class TraceletClientHttpRequestInterceptor implements ClientHttpRequestInterceptor {

  private static final String INSTRUMENTATION_NAME = "io.tracelet.spring.boot";
  private static final long MIN_REMAINING_NANOS = TimeUnit.MILLISECONDS.toNanos(1);
  private static final TextMapSetter<HttpHeaders> SETTER = HttpHeaders::set;

  private final OpenTelemetry openTelemetry;
  private final Supplier<TextMapPropagator> propagator;
  private final String requestIdHeader;
  private final String deadlineHeader; // null: not sent

  /**
   * An interceptor with the default headers ({@code X-Request-ID}, {@code X-Request-Timeout-Ms})
   * and {@code openTelemetry}'s propagators.
   */
  public TraceletClientHttpRequestInterceptor(OpenTelemetry openTelemetry) {
    this(
        openTelemetry,
        () -> openTelemetry.getPropagators().getTextMapPropagator(),
        "X-Request-ID",
        DeadlineHeader.DEFAULT_NAME);
  }

  TraceletClientHttpRequestInterceptor(
      OpenTelemetry openTelemetry,
      Supplier<TextMapPropagator> propagator,
      String requestIdHeader,
      String deadlineHeader) {
    this.openTelemetry = Objects.requireNonNull(openTelemetry, "openTelemetry");
    this.propagator = Objects.requireNonNull(propagator, "propagator");
    this.requestIdHeader = Objects.requireNonNull(requestIdHeader, "requestIdHeader");
    this.deadlineHeader = deadlineHeader;
  }

  @Override
  public ClientHttpResponse intercept(
      HttpRequest request, byte[] body, ClientHttpRequestExecution execution) throws IOException {
    Context parent = Context.current();
    // A child of the caller's context, as ContextHttpClient makes one: refusing a call that has
    // (almost) no time left cancels only the call, never the caller's context.
    try (CancellableContext call = CancellableContext.withCancel(parent)) {
      Cancellation cancellation = call.cancellation();
      if (!cancellation.isCancelled() && cancellation.remainingNanos() < MIN_REMAINING_NANOS) {
        // Passed, or less than the header's 1 ms resolution left, even if no timer fired yet.
        call.cancelDeadlineExceeded(null);
      }
      cancellation.throwIfCancelled();
      return exchange(request, body, execution, call.context(), cancellation);
    }
  }

  private ClientHttpResponse exchange(
      HttpRequest request,
      byte[] body,
      ClientHttpRequestExecution execution,
      Context parent,
      Cancellation cancellation)
      throws IOException {
    HttpHeaders headers = request.getHeaders();
    TextMapPropagator p = propagator.get();
    // getFirst, not containsKey: Spring 7's HttpHeaders is no longer a Map.
    boolean tracedElsewhere = p.fields().stream().anyMatch(f -> headers.getFirst(f) != null);
    Span span = tracedElsewhere ? Span.getInvalid() : startSpan(request, parent);
    Context context = parent.with(span);
    if (!tracedElsewhere) {
      p.inject(context, headers, SETTER);
    }
    RequestId id = RequestId.fromContext(parent);
    if (id != null && headers.getFirst(requestIdHeader) == null) {
      headers.set(requestIdHeader, id.value());
    }
    if (deadlineHeader != null && cancellation.hasDeadline()) {
      long remaining = cancellation.remainingNanos();
      headers.set(
          deadlineHeader,
          DeadlineHeader.isGrpcTimeout(deadlineHeader)
              ? DeadlineHeader.formatGrpcTimeout(remaining)
              : DeadlineHeader.format(remaining));
    }
    try (Scope ignored = context.makeCurrent();
        Interruption interruption = Interruption.onCancel(cancellation)) {
      ClientHttpResponse response;
      try {
        response = execution.execute(request, body);
      } catch (IOException | RuntimeException e) {
        ContextDoneException done = interruption.doneCause();
        if (done != null) {
          done.addSuppressed(e);
          fail(span, done);
          throw done;
        }
        fail(span, e);
        throw e;
      }
      ContextDoneException done = interruption.doneCause();
      if (done != null) {
        // Cancelled just as the answer came: the caller gets the context's cause, as with any
        // call that the cancellation reached.
        response.close();
        fail(span, done);
        throw done;
      }
      int status = response.getStatusCode().value();
      span.setAttribute("http.response.status_code", status);
      if (status >= 400) {
        span.setAttribute("error.type", Integer.toString(status));
        span.setStatus(StatusCode.ERROR);
      }
      return response;
    } finally {
      span.end();
    }
  }

  private Span startSpan(HttpRequest request, Context parent) {
    Tracer tracer = openTelemetry.getTracer(INSTRUMENTATION_NAME);
    String method = request.getMethod().name();
    URI uri = request.getURI();
    var builder =
        tracer
            .spanBuilder(method)
            .setParent(parent)
            .setSpanKind(SpanKind.CLIENT)
            .setAttribute("http.request.method", method);
    if (uri.getHost() != null) {
      builder.setAttribute("server.address", uri.getHost());
      int port = uri.getPort() != -1 ? uri.getPort() : "https".equals(uri.getScheme()) ? 443 : 80;
      builder.setAttribute("server.port", (long) port);
      // Scheme, host, port and path only: the query and user info may carry credentials.
      builder.setAttribute(
          "url.full", uri.getScheme() + "://" + uri.getHost() + ":" + port + uri.getRawPath());
    }
    return builder.startSpan();
  }

  private static void fail(Span span, Throwable failure) {
    span.recordException(failure);
    span.setAttribute("error.type", failure.getClass().getName());
    span.setStatus(StatusCode.ERROR);
  }

  /**
   * Interrupts the calling thread when the context is done during the call, and only then: the
   * interrupt is delivered under a lock that {@link #close()} also takes, so none can land after
   * the call, and the flag is cleared again before the caller sees the context's cause.
   */
  private static final class Interruption implements AutoCloseable {
    private final Thread caller = Thread.currentThread();
    private final Cancellation cancellation;
    private Cancellation.Registration registration;
    private boolean active = true; // guarded by this
    private boolean interrupted; // guarded by this

    private Interruption(Cancellation cancellation) {
      this.cancellation = cancellation;
    }

    static Interruption onCancel(Cancellation cancellation) {
      Interruption i = new Interruption(cancellation);
      i.registration = cancellation.onCancel(cause -> i.interrupt());
      return i;
    }

    private synchronized void interrupt() {
      if (active && caller != Thread.currentThread()) {
        interrupted = true;
        caller.interrupt();
      }
    }

    /** The context's cause when it ended during the call, else null. */
    ContextDoneException doneCause() {
      stop();
      try {
        // A copy with this caller's stack trace: the cause itself is shared by every caller.
        cancellation.throwIfCancelled();
        return null;
      } catch (ContextDoneException done) {
        return done;
      }
    }

    private synchronized void stop() {
      active = false;
      if (interrupted) {
        interrupted = false;
        // Ours, not the application's: clear it so it does not fail the caller's next wait.
        Thread.interrupted();
      }
    }

    @Override
    public void close() {
      stop();
      registration.close();
    }
  }
}
