package io.tracelet.servlet.jetty;

import jakarta.servlet.http.HttpServletRequest;
import org.eclipse.jetty.ee11.servlet.ServletApiRequest;
import org.eclipse.jetty.ee11.servlet.ServletContextRequest;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.server.Request;

/**
 * Jetty's core request behind an ee11 (Servlet 6.1, Jetty 12.1; Spring Boot 4's) request; loaded
 * only when ee11 is present.
 */
final class Ee11Requests {
  private Ee11Requests() {}

  /** The fields Jetty's own servlet request reads its headers from; null for any other object. */
  static HttpFields fields(HttpServletRequest request) {
    return request instanceof ServletApiRequest api ? api.getFields() : null;
  }

  /** The core request (also through wrappers), or null when this is not an ee11 request. */
  static Request coreRequest(HttpServletRequest request) {
    try {
      return ServletContextRequest.getServletContextRequest(request);
    } catch (IllegalStateException notEe11) {
      return null;
    }
  }
}
