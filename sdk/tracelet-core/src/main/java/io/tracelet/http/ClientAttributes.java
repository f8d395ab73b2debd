package io.tracelet.http;

import io.opentelemetry.api.common.AttributeKey;

/**
 * The stable HTTP client semantic-convention keys the traced client records. They are spelled out
 * here rather than taken from {@code opentelemetry-semconv} so that tracelet-core depends on the
 * OpenTelemetry API alone (an application under the Java agent or with its own SDK pays for no
 * other jar); {@code ClientAttributesTest} checks each key against the semconv artifact, so they
 * cannot drift apart.
 */
final class ClientAttributes {
  static final AttributeKey<String> HTTP_REQUEST_METHOD =
      AttributeKey.stringKey("http.request.method");
  static final AttributeKey<String> HTTP_REQUEST_METHOD_ORIGINAL =
      AttributeKey.stringKey("http.request.method_original");
  static final AttributeKey<Long> HTTP_RESPONSE_STATUS_CODE =
      AttributeKey.longKey("http.response.status_code");
  static final AttributeKey<String> URL_FULL = AttributeKey.stringKey("url.full");
  static final AttributeKey<String> SERVER_ADDRESS = AttributeKey.stringKey("server.address");
  static final AttributeKey<Long> SERVER_PORT = AttributeKey.longKey("server.port");
  static final AttributeKey<String> NETWORK_PROTOCOL_VERSION =
      AttributeKey.stringKey("network.protocol.version");
  static final AttributeKey<String> ERROR_TYPE = AttributeKey.stringKey("error.type");

  /** The value of {@link #HTTP_REQUEST_METHOD} for a method outside the known set. */
  static final String METHOD_OTHER = "_OTHER";

  private ClientAttributes() {}
}
