package io.tracelet.http;

import io.opentelemetry.api.GlobalOpenTelemetry;
import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.context.propagation.TextMapPropagator;
import io.tracelet.DeadlineHeader;
import java.net.http.HttpClient;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * Decorates a {@link HttpClient} so every call is traced and bounded by the caller's context: Go's
 * {@code http.NewRequestWithContext}.
 *
 * <pre>{@code
 * HttpClient client = ContextHttpClient.builder(HttpClient.newHttpClient())
 *     .setOpenTelemetry(openTelemetry)
 *     .enableDeadlineHeader()
 *     .build();
 * HttpResponse<String> response = client.send(request, BodyHandlers.ofString());
 * }</pre>
 *
 * <p>For each {@code send}/{@code sendAsync}, in the context current at the call:
 *
 * <ul>
 *   <li>a CLIENT span with the stable HTTP semantic-convention attributes ({@code
 *       http.request.method}, {@code url.full} with credentials and signature parameters redacted,
 *       {@code server.address}, {@code server.port}, {@code http.response.status_code}, {@code
 *       error.type}); status ERROR on a 4xx/5xx response (as the conventions ask of client spans)
 *       or a failure;
 *   <li>the propagators' headers ({@code traceparent}/{@code tracestate} by default) and the
 *       request ID ({@code X-Request-ID}, unless the request already sets it). Inside a request
 *       that Tracelet's servlet filter admitted, the propagator is the filter's outbound one unless
 *       {@link Builder#setPropagator} chose another: only the baggage keys on the filter's {@code
 *       baggage-allow-list} are forwarded (none by default);
 *   <li>the request timeout becomes the earlier of the request's own and the context's remaining
 *       time; optionally that time is also sent downstream in a {@link DeadlineHeader};
 *   <li>a call made when the context is done, or less than a millisecond before its deadline,
 *       throws the context's cause ({@link io.tracelet.ContextDoneException}) without touching the
 *       network (and without a span);
 *   <li>when the context is cancelled during the call, the exchange is cancelled (on HTTP/1.1 the
 *       JDK closes the connection) and the caller gets the context's cause, with the I/O failure as
 *       a suppressed exception; a timeout that came from the deadline is reported as {@link
 *       io.tracelet.DeadlineExceededException}, with the {@link java.net.http.HttpTimeoutException}
 *       as its cause.
 * </ul>
 *
 * <p>The future from {@code sendAsync} is completed exceptionally with the context's cause, so it
 * {@linkplain java.util.concurrent.Future#isCancelled() is cancelled}; note that on JDK 23+ its
 * {@code get()} throws a new {@code CancellationException} whose cause is that exception (read it
 * with {@code handle} or {@code exceptionally} to see it directly).
 *
 * <p>Cancellation covers the call until the response is returned: a streaming body ({@code
 * BodyHandlers.ofInputStream()}) read afterwards is the caller's to close. {@code close()}, {@code
 * shutdown()} and friends (JDK 21+) are passed on to the decorated client.
 */
public final class ContextHttpClient {

  /** The default request-ID header. */
  public static final String DEFAULT_REQUEST_ID_HEADER = "X-Request-ID";

  private static final Pattern TOKEN = Pattern.compile("[!#$%&'*+.^_`|~0-9A-Za-z-]{1,100}");

  private ContextHttpClient() {}

  /**
   * Decorates {@code delegate} with the defaults: {@link GlobalOpenTelemetry}, no deadline header.
   */
  public static HttpClient wrap(HttpClient delegate) {
    return builder(delegate).build();
  }

  /** A builder decorating {@code delegate}. */
  public static Builder builder(HttpClient delegate) {
    return new Builder(delegate);
  }

  /** Configures a decorated client; {@link #build()} gives an immutable one. */
  public static final class Builder {
    private final HttpClient delegate;
    private OpenTelemetry openTelemetry;
    private TextMapPropagator propagator;
    private String requestIdHeader = DEFAULT_REQUEST_ID_HEADER;
    private String deadlineHeader;

    private Builder(HttpClient delegate) {
      this.delegate = Objects.requireNonNull(delegate, "delegate");
      if (delegate instanceof TracedHttpClient) {
        throw new IllegalArgumentException(
            "the client is already decorated; pass the plain HttpClient to ContextHttpClient");
      }
    }

    /**
     * The OpenTelemetry instance for the tracer and, outside a request of Tracelet's servlet filter
     * and unless {@link #setPropagator} is used, the propagators. Default: {@link
     * GlobalOpenTelemetry}, looked up at each call so a client built before the SDK is installed
     * still uses it.
     */
    public Builder setOpenTelemetry(OpenTelemetry openTelemetry) {
      this.openTelemetry = Objects.requireNonNull(openTelemetry, "openTelemetry");
      return this;
    }

    /**
     * The propagator that writes the outgoing headers, for every call. Default: inside a request
     * that Tracelet's servlet filter admitted, the filter's outbound propagator (its propagators,
     * baggage limited to its {@code baggage-allow-list}); elsewhere the OpenTelemetry instance's. A
     * propagator set here is used as it is, baggage included.
     */
    public Builder setPropagator(TextMapPropagator propagator) {
      this.propagator = Objects.requireNonNull(propagator, "propagator");
      return this;
    }

    /**
     * The header that carries the request ID ({@value #DEFAULT_REQUEST_ID_HEADER} by default), or
     * {@code null} not to send it.
     */
    public Builder setRequestIdHeader(String name) {
      this.requestIdHeader = name == null ? null : checkedName(name, "request-ID header");
      return this;
    }

    /** Sends the remaining time in the {@value DeadlineHeader#DEFAULT_NAME} header. */
    public Builder enableDeadlineHeader() {
      return setDeadlineHeader(DeadlineHeader.DEFAULT_NAME);
    }

    /**
     * Sends the remaining time, in {@link DeadlineHeader}'s format, in the header {@code name}; or,
     * with {@code null}, not at all (the default). Milliseconds ({@code 1500}) for every name but
     * {@code grpc-timeout}, which gets the gRPC syntax ({@code 1500m}) its readers expect.
     */
    public Builder setDeadlineHeader(String name) {
      this.deadlineHeader = name == null ? null : checkedName(name, "deadline header");
      return this;
    }

    /** The decorated client. */
    public HttpClient build() {
      return new TracedHttpClient(
          delegate, openTelemetry, propagator, requestIdHeader, deadlineHeader);
    }

    private static String checkedName(String name, String what) {
      if (!TOKEN.matcher(name).matches()) {
        throw new IllegalArgumentException(
            "the " + what + " name must be an HTTP token (letters, digits, '-', ...): " + name);
      }
      return name;
    }
  }
}
