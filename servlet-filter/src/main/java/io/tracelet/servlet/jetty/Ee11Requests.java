package io.tracelet.servlet.jetty;

import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import org.eclipse.jetty.ee11.servlet.ServletApiRequest;
import org.eclipse.jetty.ee11.servlet.ServletApiResponse;
import org.eclipse.jetty.ee11.servlet.ServletContextRequest;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;

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

  /** The core request behind Jetty's own servlet request; null for any other object. */
  static Request ownCoreRequest(HttpServletRequest request) {
    return request instanceof ServletApiRequest api ? api.getRequest() : null;
  }

  /** The core response behind Jetty's own servlet response; null for any other object. */
  static Response coreResponse(HttpServletResponse response) {
    return response instanceof ServletApiResponse api ? api.getResponse() : null;
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
