package io.tracelet.servlet.jetty;

import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import org.eclipse.jetty.ee10.servlet.ServletApiRequest;
import org.eclipse.jetty.ee10.servlet.ServletApiResponse;
import org.eclipse.jetty.ee10.servlet.ServletContextRequest;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;

/** Jetty's core request behind an ee10 (Servlet 6.0) request; loaded only when ee10 is present. */
final class Ee10Requests {
  private Ee10Requests() {}

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

  /** The core request (also through wrappers), or null when this is not an ee10 request. */
  static Request coreRequest(HttpServletRequest request) {
    try {
      return ServletContextRequest.getServletContextRequest(request);
    } catch (IllegalStateException notEe10) {
      return null;
    }
  }
}
