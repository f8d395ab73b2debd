package io.tracelet.servlet.internal;

/**
 * What the core needs to know about a request, read from the container by the filter.
 *
 * @param method the request method as received
 * @param path the request URI path, not decoded ({@code url.path})
 * @param pathInContext the decoded path within the context, matched against excluded paths
 * @param query the raw query string, or null
 * @param scheme {@code http} or {@code https}
 * @param serverAddress the host the client addressed
 * @param serverPort the port the client addressed
 * @param clientAddress the peer's address
 * @param route the route from the servlet mapping, or null when unknown
 * @param protocol the request's protocol ({@code HTTP/1.1}), or null when unknown
 */
public record RequestInfo(
    String method,
    String path,
    String pathInContext,
    String query,
    String scheme,
    String serverAddress,
    int serverPort,
    String clientAddress,
    String route,
    String protocol) {

  /** A request whose protocol is not known. */
  public RequestInfo(
      String method,
      String path,
      String pathInContext,
      String query,
      String scheme,
      String serverAddress,
      int serverPort,
      String clientAddress,
      String route) {
    this(
        method,
        path,
        pathInContext,
        query,
        scheme,
        serverAddress,
        serverPort,
        clientAddress,
        route,
        null);
  }
}
