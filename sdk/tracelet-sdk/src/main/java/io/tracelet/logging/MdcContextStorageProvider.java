package io.tracelet.logging;

import io.opentelemetry.context.ContextStorage;
import io.opentelemetry.context.ContextStorageProvider;

/**
 * The {@link ContextStorageProvider} service that makes {@link TraceletMdc} correlation active
 * without code: OpenTelemetry's thread-local storage with the MDC wrapper around it. Registered in
 * {@code META-INF/services}; select it explicitly with {@code
 * -Dio.opentelemetry.context.contextStorageProvider=io.tracelet.logging.MdcContextStorageProvider}
 * when another provider is on the class path too.
 */
public final class MdcContextStorageProvider implements ContextStorageProvider {

  /** Called by OpenTelemetry's service loader. */
  public MdcContextStorageProvider() {}

  @Override
  public ContextStorage get() {
    return MdcContextStorage.wrapOnce(ContextStorage.defaultStorage());
  }
}
