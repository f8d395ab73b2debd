package io.tracelet.servlet;

import jakarta.servlet.DispatcherType;
import jakarta.servlet.FilterRegistration;
import jakarta.servlet.ServletRegistration;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumSet;
import org.apache.catalina.Context;
import org.apache.catalina.connector.Connector;
import org.apache.catalina.startup.Tomcat;

/**
 * The contract on embedded Tomcat 11, registered through {@code ServletContext.addFilter} from a
 * {@code ServletContainerInitializer}.
 */
class TomcatTracingFilterTest extends TracingFilterContract {

  @Override
  TestServer start(TracingConfig config) throws Exception {
    Path baseDir = Files.createTempDirectory("tomcat");
    Tomcat tomcat = new Tomcat();
    tomcat.setBaseDir(baseDir.toString());
    Connector connector = new Connector();
    connector.setPort(0);
    connector.setProperty("address", "127.0.0.1");
    // Room for the baggage tests, which send more than 8 KiB of baggage across two headers.
    connector.setProperty("maxHttpHeaderSize", Integer.toString(32 * 1024));
    tomcat.getService().addConnector(connector);
    tomcat.setConnector(connector);

    Context context = tomcat.addContext("", baseDir.toString());
    LeakyFilter leaky = new LeakyFilter();
    TracingFilter filter = new TracingFilter(config);
    context.addServletContainerInitializer(
        (classes, servletContext) -> {
          FilterRegistration.Dynamic l = servletContext.addFilter("leaky", leaky);
          l.setAsyncSupported(true);
          l.addMappingForUrlPatterns(EnumSet.of(DispatcherType.REQUEST), true, "/*");
          FilterRegistration.Dynamic f = servletContext.addFilter("tracing", filter);
          f.setAsyncSupported(true);
          f.addMappingForUrlPatterns(
              EnumSet.of(DispatcherType.REQUEST, DispatcherType.ASYNC), true, "/*");
          ServletRegistration.Dynamic app = servletContext.addServlet("app", new AppServlet());
          app.setAsyncSupported(true);
          app.addMapping(AppServlet.MAPPINGS);
        },
        null);
    tomcat.start();
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
        tomcat.stop();
        tomcat.destroy();
      }
    };
  }
}
