package io.tracelet.servlet.internal.server;

import io.tracelet.servlet.internal.propagation.HeaderSource;
import java.util.List;

/** A request's facts for tests of the handler; {@link #with} adds its headers. */
record RequestInfo(
    String method,
    String path,
    String pathInContext,
    String query,
    String scheme,
    String serverAddress,
    int serverPort,
    String clientAddress,
    String route) {

  /** A GET of {@code path} (also its route) from 10.0.0.1 to localhost:8080. */
  static RequestInfo get(String path) {
    return new RequestInfo("GET", path, path, null, "http", "localhost", 8080, "10.0.0.1", path);
  }

  /** This request with {@code headers}, as the handler reads it. */
  ServerRequest with(HeaderSource headers) {
    RequestInfo info = this;
    return new ServerRequest() {
      @Override
      public String method() {
        return info.method;
      }

      @Override
      public String path() {
        return info.path;
      }

      @Override
      public String pathInContext() {
        return info.pathInContext;
      }

      @Override
      public String query() {
        return info.query;
      }

      @Override
      public String scheme() {
        return info.scheme;
      }

      @Override
      public String serverAddress() {
        return info.serverAddress;
      }

      @Override
      public int serverPort() {
        return info.serverPort;
      }

      @Override
      public String clientAddress() {
        return info.clientAddress;
      }

      @Override
      public String protocol() {
        return "HTTP/1.1";
      }

      @Override
      public String mappingRoute() {
        return info.route;
      }

      @Override
      public Iterable<String> names() {
        return headers.names();
      }

      @Override
      public List<String> values(String name) {
        return headers.values(name);
      }
    };
  }
}
