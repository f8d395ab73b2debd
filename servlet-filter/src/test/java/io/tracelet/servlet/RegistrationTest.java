package io.tracelet.servlet;

import static org.assertj.core.api.Assertions.assertThat;

import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.tracelet.servlet.internal.server.ServerTracing;
import jakarta.servlet.ServletRegistration;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.apache.catalina.Context;
import org.apache.catalina.connector.Connector;
import org.apache.catalina.startup.Tomcat;
import org.eclipse.jetty.ee10.webapp.WebAppContext;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The filter declared in {@code web.xml} (Jetty) and auto-registered by its initializer (Tomcat).
 */
class RegistrationTest {

  private static final String WEB_XML =
      """
      <?xml version="1.0" encoding="UTF-8"?>
      <web-app xmlns="https://jakarta.ee/xml/ns/jakartaee" version="6.0">
        <filter>
          <filter-name>tracing</filter-name>
          <filter-class>io.tracelet.servlet.TracingFilter</filter-class>
          <async-supported>true</async-supported>
          <init-param>
            <param-name>request-id-header</param-name>
            <param-value>X-Correlation-ID</param-value>
          </init-param>
          <init-param>
            <param-name>excluded-paths</param-name>
            <param-value>/health</param-value>
          </init-param>
        </filter>
        <filter-mapping>
          <filter-name>tracing</filter-name>
          <url-pattern>/*</url-pattern>
          <dispatcher>REQUEST</dispatcher>
          <dispatcher>ASYNC</dispatcher>
        </filter-mapping>
        <servlet>
          <servlet-name>app</servlet-name>
          <servlet-class>io.tracelet.servlet.AppServlet</servlet-class>
          <async-supported>true</async-supported>
        </servlet>
        <servlet-mapping>
          <servlet-name>app</servlet-name>
          <url-pattern>/echo</url-pattern>
          <url-pattern>/health</url-pattern>
        </servlet-mapping>
      </web-app>
      """;

  private final InMemorySpanExporter exporter = InMemorySpanExporter.create();
  private final OpenTelemetrySdk otel = TestSdks.recordingInto(exporter);
  private AutoCloseable running;

  @AfterEach
  void stop() throws Exception {
    if (running != null) {
      running.close();
    }
    otel.close();
  }

  @Test
  void webXml_onJettyWebApp_tracesWithInitParams() throws Exception {
    Path dir = Files.createTempDirectory("webapp");
    Files.createDirectories(dir.resolve("WEB-INF"));
    Files.writeString(dir.resolve("WEB-INF/web.xml"), WEB_XML);
    Server server = new Server();
    ServerConnector connector = new ServerConnector(server);
    connector.setHost("127.0.0.1");
    connector.setPort(0);
    server.addConnector(connector);
    WebAppContext webapp = new WebAppContext();
    webapp.setContextPath("/app");
    webapp.setBaseResourceAsPath(dir);
    webapp.setParentLoaderPriority(true);
    webapp.setAttribute(TracingFilter.OPEN_TELEMETRY_ATTRIBUTE, otel);
    server.setHandler(webapp);
    server.start();
    running = server::stop;

    RawHttp.Response r =
        RawHttp.send(
            connector.getLocalPort(), "GET", "/app/echo", "X-Correlation-ID: from-web-xml");
    assertThat(r.status()).isEqualTo(200);
    assertThat(r.header("X-Correlation-ID")).isEqualTo("from-web-xml");
    assertThat(r.echo()).containsEntry("requestId", "from-web-xml");
    SpanData span = awaitSpan("from-web-xml");
    assertThat(span.getName()).isEqualTo("GET /app/echo");

    RawHttp.Response health = RawHttp.send(connector.getLocalPort(), "GET", "/app/health");
    assertThat(health.header("X-Correlation-ID")).isNotEmpty();
    assertThat(health.header("traceresponse")).isNull();
  }

  @Test
  void initializer_registersFilter_onlyWhenAskedTo(@TempDir Path baseDir) throws Exception {
    Tomcat tomcat = new Tomcat();
    tomcat.setBaseDir(baseDir.toString());
    Connector connector = new Connector();
    connector.setPort(0);
    connector.setProperty("address", "127.0.0.1");
    tomcat.getService().addConnector(connector);
    tomcat.setConnector(connector);
    Context on = tomcat.addContext("/on", baseDir.toString());
    on.addParameter(TracingInitializer.AUTO_REGISTER_PARAM, "true");
    on.getServletContext().setAttribute(TracingFilter.OPEN_TELEMETRY_ATTRIBUTE, otel);
    Context off = tomcat.addContext("/off", baseDir.toString());
    for (Context c : new Context[] {on, off}) {
      c.addServletContainerInitializer(new TracingInitializer(), null);
      c.addServletContainerInitializer(
          (classes, sc) -> {
            ServletRegistration.Dynamic app = sc.addServlet("app", new AppServlet());
            app.setAsyncSupported(true);
            app.addMapping("/echo");
          },
          null);
    }
    tomcat.start();
    running =
        () -> {
          tomcat.stop();
          tomcat.destroy();
        };
    int port = connector.getLocalPort();

    RawHttp.Response traced = RawHttp.send(port, "GET", "/on/echo", "X-Request-ID: auto-on");
    assertThat(traced.header("X-Request-ID")).isEqualTo("auto-on");
    assertThat(awaitSpan("auto-on").getName()).isEqualTo("GET /on/echo");

    RawHttp.Response untraced = RawHttp.send(port, "GET", "/off/echo", "X-Request-ID: auto-off");
    assertThat(untraced.header("X-Request-ID")).isNull();
    assertThat(untraced.echo()).containsEntry("requestId", "");
  }

  private SpanData awaitSpan(String requestId) throws InterruptedException {
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (System.nanoTime() < end) {
      for (SpanData s : exporter.getFinishedSpanItems()) {
        if (requestId.equals(s.getAttributes().get(ServerTracing.REQUEST_ID))) {
          return s;
        }
      }
      Thread.sleep(10);
    }
    throw new AssertionError("no span for " + requestId);
  }
}
