package io.tracelet.logging;

import io.opentelemetry.context.ContextStorage;

/**
 * Log correlation: while a context is current, the SLF4J MDC holds its {@value #TRACE_ID}, {@value
 * #SPAN_ID}, {@value #PARENT_SPAN_ID} and {@value #REQUEST_ID}; when the scope closes, the values
 * that were there before are put back (or removed if there were none).
 *
 * <p>It works as an OpenTelemetry {@link ContextStorage} wrapper, so it covers every {@code
 * makeCurrent()} in the process (ours, other instrumentation's, {@code Context.taskWrapping} hops),
 * not only Tracelet's helpers. It is active when either
 *
 * <ul>
 *   <li>the {@link MdcContextStorageProvider} service this jar registers is picked by OpenTelemetry
 *       (it is, when it is the only {@code ContextStorageProvider} on the class path; opt out with
 *       {@code -Dio.opentelemetry.context.contextStorageProvider=default}), or
 *   <li>{@link #install()} ran before anything used a {@code Context}.
 * </ul>
 *
 * <pre>{@code
 * public static void main(String[] args) {
 *   TraceletMdc.install(); // first line: the context storage is fixed on first use
 *   ...
 * }
 * }</pre>
 *
 * <p>{@value #PARENT_SPAN_ID} is only set for spans of the OpenTelemetry SDK (the API's {@code
 * Span} has no parent accessor; under the Java agent, whose spans are not SDK spans here, it is
 * absent).
 */
public final class TraceletMdc {

  /** MDC key of the current span's trace ID (32 hex characters). */
  public static final String TRACE_ID = "trace_id";

  /** MDC key of the current span's ID (16 hex characters). */
  public static final String SPAN_ID = "span_id";

  /** MDC key of the current span's parent span ID, when it has a valid one. */
  public static final String PARENT_SPAN_ID = "parent_span_id";

  /** MDC key of the current {@link io.tracelet.RequestId}. */
  public static final String REQUEST_ID = "request_id";

  private static boolean installCalled;

  private TraceletMdc() {}

  /**
   * Registers the MDC wrapper with OpenTelemetry's context storage. Idempotent, and harmless when
   * the service provider is already active. It has no effect once any code has used a {@code
   * Context}: call it first thing in {@code main}, then check {@link #isActive()} if in doubt.
   */
  public static synchronized void install() {
    if (!installCalled) {
      installCalled = true;
      ContextStorage.addWrapper(MdcContextStorage::wrapOnce);
    }
  }

  /**
   * Whether MDC correlation is in place. This initializes OpenTelemetry's context storage if
   * nothing has yet, so call it after {@link #install()}.
   */
  public static boolean isActive() {
    ContextStorage.get();
    return MdcContextStorage.isCreated();
  }
}
