package io.tracelet;

import static org.assertj.core.api.Assertions.assertThat;

import io.opentelemetry.context.Context;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/** Fails a test that leaves a context current on its thread (OpenTelemetry's own leak check). */
final class ContextLeakCheck implements AfterEachCallback {
  @Override
  public void afterEach(ExtensionContext context) {
    assertThat(Context.current()).as("context leaked by the test").isSameAs(Context.root());
  }
}
