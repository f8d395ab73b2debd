package io.tracelet.benchmarks;

import io.tracelet.servlet.internal.server.ServerRequest;
import java.util.ArrayList;
import java.util.List;

/**
 * A fixed {@code GET /hello} request with a fixed set of headers, looked up the way a servlet
 * container does (case-insensitively, by a scan): the request the benchmarks hand to the filter's
 * core and to propagators.
 */
final class FixedHeaders implements ServerRequest {
  private final String[] names;
  private final String[] values;

  FixedHeaders(String... namesAndValues) {
    names = new String[namesAndValues.length / 2];
    values = new String[namesAndValues.length / 2];
    for (int i = 0; i < names.length; i++) {
      names[i] = namesAndValues[2 * i];
      values[i] = namesAndValues[2 * i + 1];
    }
  }

  @Override
  public Iterable<String> names() {
    return List.of(names);
  }

  @Override
  public List<String> values(String name) {
    List<String> out = null;
    for (int i = 0; i < names.length; i++) {
      if (names[i].equalsIgnoreCase(name)) {
        if (out == null) {
          out = new ArrayList<>(1);
        }
        out.add(values[i]);
      }
    }
    return out == null ? List.of() : out;
  }

  @Override
  public String first(String name) {
    for (int i = 0; i < names.length; i++) {
      if (names[i].equalsIgnoreCase(name)) {
        return values[i];
      }
    }
    return null;
  }

  @Override
  public String single(String name) {
    String found = null;
    for (int i = 0; i < names.length; i++) {
      if (names[i].equalsIgnoreCase(name)) {
        if (found != null) {
          return null;
        }
        found = values[i];
      }
    }
    return found;
  }

  @Override
  public String method() {
    return "GET";
  }

  @Override
  public String path() {
    return "/hello";
  }

  @Override
  public String pathInContext() {
    return "/hello";
  }

  @Override
  public String query() {
    return null;
  }

  @Override
  public String scheme() {
    return "http";
  }

  @Override
  public String serverAddress() {
    return "localhost";
  }

  @Override
  public int serverPort() {
    return 80;
  }

  @Override
  public String clientAddress() {
    return "0.0.0.0";
  }

  @Override
  public String protocol() {
    return "HTTP/1.1";
  }

  @Override
  public String mappingRoute() {
    return "/hello";
  }
}
