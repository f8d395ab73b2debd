package io.tracelet.servlet;

/** An embedded container running {@link AppServlet} behind a {@link TracingFilter}. */
interface TestServer extends AutoCloseable {

  int port();

  TracingFilter filter();

  LeakyFilter leakyFilter();

  @Override
  void close() throws Exception;
}
