package io.tracelet.servlet.docs;

import static org.assertj.core.api.Assertions.assertThat;

import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.tracelet.servlet.TracingConfig;
import io.tracelet.servlet.TracingFilter;
import jakarta.servlet.DispatcherType;
import jakarta.servlet.FilterRegistration;
import jakarta.servlet.ServletContext;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.EnumSet;
import org.eclipse.jetty.ee10.servlet.FilterHolder;
import org.eclipse.jetty.ee10.servlet.ServletContextHandler;
import org.eclipse.jetty.ee10.servlet.ServletHolder;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.junit.jupiter.api.Test;
import org.springframework.boot.web.servlet.FilterRegistrationBean;
import org.springframework.context.annotation.Bean;
import org.springframework.core.Ordered;

/** The registration samples of docs/servlet-filter.md, compiled; the Jetty one also runs. */
class RegistrationSnippetsTest {

  static void jetty(ServletContextHandler context, OpenTelemetry openTelemetry) {
    // snippet: jetty
    FilterHolder holder =
        new FilterHolder(
            new TracingFilter(
                TracingConfig.builder()
                    .openTelemetry(openTelemetry)
                    .requestTimeout(Duration.ofSeconds(5))
                    .excludedPaths("/health")
                    .build()));
    holder.setAsyncSupported(true);
    context.addFilter(holder, "/*", EnumSet.of(DispatcherType.REQUEST, DispatcherType.ASYNC));
    // end-snippet
  }

  static void servletContext(ServletContext servletContext, TracingConfig config) {
    // snippet: servlet-context
    FilterRegistration.Dynamic f = servletContext.addFilter("tracelet", new TracingFilter(config));
    f.setAsyncSupported(true);
    f.addMappingForUrlPatterns(
        EnumSet.of(DispatcherType.REQUEST, DispatcherType.ASYNC), false, "/*");
    // end-snippet
  }

  static final class SpringConfiguration {
    // snippet: spring-boot
    @Bean
    FilterRegistrationBean<TracingFilter> tracelet(OpenTelemetry openTelemetry) {
      FilterRegistrationBean<TracingFilter> bean =
          new FilterRegistrationBean<>(
              new TracingFilter(TracingConfig.builder().openTelemetry(openTelemetry).build()));
      bean.addUrlPatterns("/*");
      bean.setDispatcherTypes(DispatcherType.REQUEST, DispatcherType.ASYNC, DispatcherType.ERROR);
      bean.setAsyncSupported(true);
      // After Spring's ServerHttpObservationFilter (HIGHEST_PRECEDENCE + 1), whose server span
      // the filter joins; before Spring Security (-100), so a 401 carries the IDs.
      bean.setOrder(Ordered.HIGHEST_PRECEDENCE + 10);
      return bean;
    }
    // end-snippet
  }

  @Test
  void jettySample_servesRequestsWithARequestId() throws Exception {
    Server server = new Server();
    ServerConnector connector = new ServerConnector(server);
    connector.setHost("127.0.0.1");
    server.addConnector(connector);
    ServletContextHandler context = new ServletContextHandler();
    context.addServlet(
        new ServletHolder(
            new HttpServlet() {
              @Override
              protected void doGet(HttpServletRequest req, HttpServletResponse resp)
                  throws IOException {
                resp.getWriter().write("ok");
              }
            }),
        "/");
    try (OpenTelemetrySdk sdk = OpenTelemetrySdk.builder().build()) {
      jetty(context, sdk);
      server.setHandler(context);
      server.start();
      try {
        HttpResponse<String> response =
            HttpClient.newHttpClient()
                .send(
                    HttpRequest.newBuilder(
                            URI.create("http://127.0.0.1:" + connector.getLocalPort() + "/"))
                        .build(),
                    HttpResponse.BodyHandlers.ofString());
        assertThat(response.body()).isEqualTo("ok");
        assertThat(response.headers().firstValue("X-Request-ID")).isPresent();
      } finally {
        server.stop();
      }
    }
  }

  @Test
  void springSample_buildsARegistration() {
    try (OpenTelemetrySdk sdk = OpenTelemetrySdk.builder().build()) {
      FilterRegistrationBean<TracingFilter> bean = new SpringConfiguration().tracelet(sdk);
      assertThat(bean.getUrlPatterns()).containsExactly("/*");
      // The order the starter uses (TraceletAutoConfiguration.FILTER_ORDER), tested there with
      // Spring's observation filter and Spring Security in front of and behind it.
      assertThat(bean.getOrder()).isEqualTo(Ordered.HIGHEST_PRECEDENCE + 10);
    }
  }
}
