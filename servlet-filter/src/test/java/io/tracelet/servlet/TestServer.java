package io.tracelet.servlet;

/** An embedded container running {@link AppServlet} behind a {@link TracingFilter}. */
interface TestServer {

  int port();

  TracingFilter filter();

  LeakyFilter leakyFilter();

  void close() throws Exception;
}
