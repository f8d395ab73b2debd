package io.tracelet.servlet;

import jakarta.servlet.DispatcherType;
import java.util.EnumSet;
import org.eclipse.jetty.ee10.servlet.FilterHolder;
import org.eclipse.jetty.ee10.servlet.ServletContextHandler;
import org.eclipse.jetty.ee10.servlet.ServletHolder;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;

/** The contract on embedded Jetty 12 (ee10), registered with {@code ServletContextHandler}. */
class JettyTracingFilterTest extends TracingFilterContract {

  @Override
  TestServer start(TracingConfig config) throws Exception {
    Server server = new Server();
    HttpConfiguration http = new HttpConfiguration();
    // Room for the baggage tests, which send more than 8 KiB of baggage across two headers.
    http.setRequestHeaderSize(32 * 1024);
    ServerConnector connector = new ServerConnector(server, new HttpConnectionFactory(http));
    connector.setHost("127.0.0.1");
    connector.setPort(0);
    server.addConnector(connector);

    ServletContextHandler context = new ServletContextHandler();
    context.setContextPath("/");
    LeakyFilter leaky = new LeakyFilter();
    FilterHolder leakyHolder = new FilterHolder(leaky);
    leakyHolder.setAsyncSupported(true);
    context.addFilter(leakyHolder, "/*", EnumSet.of(DispatcherType.REQUEST));
    TracingFilter filter = new TracingFilter(config);
    FilterHolder holder = new FilterHolder(filter);
    holder.setAsyncSupported(true);
    context.addFilter(holder, "/*", EnumSet.of(DispatcherType.REQUEST, DispatcherType.ASYNC));
    ServletHolder app = new ServletHolder(new AppServlet());
    app.setAsyncSupported(true);
    for (String mapping : AppServlet.MAPPINGS) {
      context.addServlet(app, mapping);
    }
    server.setHandler(context);
    server.start();
    int port = connector.getLocalPort();
    return new TestServer() {
      @Override
      public int port() {
        return port;
      }

      @Override
      public TracingFilter filter() {
        return filter;
      }

      @Override
      public LeakyFilter leakyFilter() {
        return leaky;
      }

      @Override
      public void close() throws Exception {
        server.stop();
      }
    };
  }
}
