package io.tracelet.servlet.internal.container;

import io.tracelet.servlet.internal.server.CapturedHeaders;
import io.tracelet.servlet.internal.server.HeaderIndex;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

/**
 * Reads a request's headers and the facts derived from its connection and {@code Host} header, and
 * writes the response headers, the way the container does it cheapest (Jetty: one pass over the
 * request's fields, the client address and server name kept per connection instead of formatted per
 * call, and response fields set without the iterator object a servlet-API lookup costs there);
 * elsewhere, and for a request or response a filter in front of ours wrapped, the servlet API is
 * used as is.
 */
public interface ContainerHeaders {

  /**
   * Captures the headers of {@code request} that {@code index} names into {@code into}, when the
   * request is the container's own (a wrapper may answer header lookups differently) and its
   * headers can be walked; otherwise leaves {@code into} as it is.
   */
  void read(HttpServletRequest request, HeaderIndex index, CapturedHeaders into);

  /**
   * The client address, server name and server port of {@code request}, equal to what its servlet
   * API answers, when the container can give them without formatting them anew; null when the
   * caller must ask the servlet API.
   */
  RequestFacts facts(HttpServletRequest request);

  /**
   * Sets the response header {@code name} to {@code value}, replacing any value, as {@link
   * HttpServletResponse#setHeader} does; returns false when the caller must call that instead.
   */
  boolean set(HttpServletResponse response, String name, String value);

  /** The servlet API for everything. */
  ContainerHeaders SERVLET_API =
      new ContainerHeaders() {
        @Override
        public void read(HttpServletRequest request, HeaderIndex index, CapturedHeaders into) {}

        @Override
        public RequestFacts facts(HttpServletRequest request) {
          return null;
        }

        @Override
        public boolean set(HttpServletResponse response, String name, String value) {
          return false;
        }
      };
}
