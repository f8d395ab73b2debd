package io.tracelet.servlet;

import io.tracelet.servlet.internal.HeaderSource;
import jakarta.servlet.http.HttpServletRequest;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Enumeration;
import java.util.List;

/** The request's headers as a {@link HeaderSource}; servlet header lookup ignores case. */
final class ServletHeaders implements HeaderSource {

  private final HttpServletRequest request;

  ServletHeaders(HttpServletRequest request) {
    this.request = request;
  }

  @Override
  public Iterable<String> names() {
    Enumeration<String> names = request.getHeaderNames();
    return names == null ? List.of() : Collections.list(names);
  }

  @Override
  public List<String> values(String name) {
    Enumeration<String> values = request.getHeaders(name);
    if (values == null || !values.hasMoreElements()) {
      return List.of();
    }
    List<String> out = new ArrayList<>(2);
    while (values.hasMoreElements()) {
      out.add(values.nextElement());
    }
    return out;
  }

  @Override
  public String first(String name) {
    return request.getHeader(name);
  }

  @Override
  public String single(String name) {
    Enumeration<String> values = request.getHeaders(name);
    if (values == null || !values.hasMoreElements()) {
      return null;
    }
    String value = values.nextElement();
    return values.hasMoreElements() ? null : value;
  }
}
