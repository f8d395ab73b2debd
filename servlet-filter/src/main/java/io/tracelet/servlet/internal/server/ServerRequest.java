package io.tracelet.servlet.internal.server;

import io.tracelet.servlet.internal.propagation.HeaderSource;

/**
 * The request adapter: what {@link ServerTracing} reads of a request, container agnostic so the
 * server-tracing layer is testable without a container. The servlet filter implements it over the
 * servlet request in the same per-request object that receives the response headers, so nothing is
 * copied out of the container per request.
 */
public interface ServerRequest extends HeaderSource {

  /** The request method as received. */
  String method();

  /** The request URI path, not decoded ({@code url.path}). */
  String path();

  /** The decoded path within the context, matched against excluded paths. */
  String pathInContext();

  /** The raw query string, or null. */
  String query();

  /** {@code http} or {@code https}. */
  String scheme();

  /** The host the client addressed. */
  String serverAddress();

  /** The port the client addressed. */
  int serverPort();

  /** The peer's address. */
  String clientAddress();

  /** The protocol as the request line names it, such as {@code HTTP/1.1} or {@code HTTP/2.0}. */
  String protocol();

  /** The route from the container's mapping, or null when unknown. */
  String mappingRoute();
}
