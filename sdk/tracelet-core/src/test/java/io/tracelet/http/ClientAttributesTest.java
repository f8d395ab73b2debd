package io.tracelet.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.opentelemetry.semconv.ErrorAttributes;
import io.opentelemetry.semconv.HttpAttributes;
import io.opentelemetry.semconv.NetworkAttributes;
import io.opentelemetry.semconv.ServerAttributes;
import io.opentelemetry.semconv.UrlAttributes;
import org.junit.jupiter.api.Test;

/** tracelet-core spells out its semconv keys; they must be OpenTelemetry's own. */
class ClientAttributesTest {

  @Test
  void everyKey_equalsTheSemanticConventionsArtifact() {
    assertThat(ClientAttributes.HTTP_REQUEST_METHOD).isEqualTo(HttpAttributes.HTTP_REQUEST_METHOD);
    assertThat(ClientAttributes.HTTP_REQUEST_METHOD_ORIGINAL)
        .isEqualTo(HttpAttributes.HTTP_REQUEST_METHOD_ORIGINAL);
    assertThat(ClientAttributes.HTTP_RESPONSE_STATUS_CODE)
        .isEqualTo(HttpAttributes.HTTP_RESPONSE_STATUS_CODE);
    assertThat(ClientAttributes.URL_FULL).isEqualTo(UrlAttributes.URL_FULL);
    assertThat(ClientAttributes.SERVER_ADDRESS).isEqualTo(ServerAttributes.SERVER_ADDRESS);
    assertThat(ClientAttributes.SERVER_PORT).isEqualTo(ServerAttributes.SERVER_PORT);
    assertThat(ClientAttributes.NETWORK_PROTOCOL_VERSION)
        .isEqualTo(NetworkAttributes.NETWORK_PROTOCOL_VERSION);
    assertThat(ClientAttributes.ERROR_TYPE).isEqualTo(ErrorAttributes.ERROR_TYPE);
    assertThat(ClientAttributes.METHOD_OTHER)
        .isEqualTo(HttpAttributes.HttpRequestMethodValues.OTHER);
  }
}
