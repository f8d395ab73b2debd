package io.tracelet.servlet.internal.container;

import io.tracelet.servlet.internal.server.CapturedHeaders;
import io.tracelet.servlet.internal.server.HeaderIndex;
import jakarta.servlet.http.HttpServletRequest;

/**
 * Hands a request's headers to {@link CapturedHeaders} in one pass, where the container allows it
 * without allocating (Jetty); elsewhere nothing is captured and each header is looked up through
 * the servlet API.
 */
public interface HeaderReader {

  /**
   * Captures the headers of {@code request} that {@code index} names into {@code into}, when the
   * request is the container's own (a wrapper may answer header lookups differently) and its
   * headers can be walked; otherwise leaves {@code into} as it is.
   */
  void read(HttpServletRequest request, HeaderIndex index, CapturedHeaders into);

  /** Captures nothing. */
  HeaderReader NONE = (request, index, into) -> {};
}
