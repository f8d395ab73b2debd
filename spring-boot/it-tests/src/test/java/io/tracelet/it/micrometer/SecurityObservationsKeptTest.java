package io.tracelet.it.micrometer;

import static org.assertj.core.api.Assertions.assertThat;

import io.tracelet.it.Apps;
import io.tracelet.it.TestApp;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.Test;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * Why the starter turns Spring Security's filter-chain observations off under Micrometer Tracing:
 * kept, their scopes hide the request's Tracelet context from the controller. Should Micrometer or
 * Spring Security change that, this test fails, and the default can go.
 */
class SecurityObservationsKeptTest {

  @Test
  void keptSecurityObservations_hideTheRequestIdFromTheController() throws Exception {
    try (ConfigurableApplicationContext app =
        Apps.start(
            new Class<?>[] {TestApp.class, MicrometerBridgeTest.Capture.class},
            "tracelet.keep-spring-security-observations=true",
            "management.tracing.sampling.probability=1.0",
            "management.otlp.metrics.export.enabled=false")) {
      HttpResponse<String> response = Apps.get(app, "/orders/3", "X-Request-ID", "kept-1");
      assertThat(response.statusCode()).isEqualTo(200);
      // The response header is the filter's; the controller saw no request ID and made one up.
      assertThat(response.headers().firstValue("X-Request-ID")).hasValue("kept-1");
      assertThat(response.body()).startsWith("order 3 for request ").doesNotContain("kept-1");
    }
  }
}
