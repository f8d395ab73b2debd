package io.tracelet.servlet.internal.server;

/**
 * Receives the response headers of a request, in order; every value handed over is already valid to
 * write ({@code ^[\x21-\x7E]{1,512}$}). The filter passes the response itself, so no list is built
 * per request.
 */
public interface HeaderSink {

  /** Sets the response header {@code name} to {@code value}. */
  void set(String name, String value);
}
