package io.tracelet.spring.boot;

import io.opentelemetry.api.GlobalOpenTelemetry;
import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.context.propagation.TextMapPropagator;
import io.tracelet.sdk.TraceletOpenTelemetry;
import io.tracelet.servlet.TracingConfig;
import io.tracelet.servlet.TracingConfig.Setting;
import io.tracelet.servlet.TracingFilter;
import jakarta.servlet.DispatcherType;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.BeansException;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.config.BeanPostProcessor;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnWebApplication;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.web.servlet.FilterRegistrationBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.Ordered;
import org.springframework.core.env.Environment;
import org.springframework.web.client.RestClient;
import org.springframework.web.client.RestTemplate;
import org.springframework.web.method.support.HandlerMethodArgumentResolver;
import org.springframework.web.servlet.config.annotation.InterceptorRegistry;
import org.springframework.web.servlet.config.annotation.WebMvcConfigurer;

/**
 * Tracelet for a Spring Boot servlet application: the {@link TracingFilter} on every request, the
 * route from Spring MVC's matched pattern, the request's {@code Cancellation}, {@code Deadline} and
 * {@code RequestId} as controller parameters, a 504 {@code ProblemDetail} when the deadline passes,
 * and {@code RestClient}/{@code RestTemplate} calls that carry the trace, the request ID and the
 * remaining time.
 *
 * <p>OpenTelemetry: the application's {@code OpenTelemetry} bean when it has one (Spring Boot's
 * own, the Micrometer Tracing bridge's, OpenTelemetry's Spring Boot starter's), else the Java
 * agent's, else one set up by {@code TraceletOpenTelemetry} when {@code tracelet-sdk} is present,
 * shut down with the application context. Settings are the {@code tracelet.*} properties.
 */
@AutoConfiguration(
    afterName = {
      // Spring Boot 4, Spring Boot 3.5 and OpenTelemetry's starter: their OpenTelemetry bean
      // must exist before we decide to set one up.
      "org.springframework.boot.opentelemetry.autoconfigure.OpenTelemetrySdkAutoConfiguration",
      "org.springframework.boot.actuate.autoconfigure.opentelemetry.OpenTelemetryAutoConfiguration",
      "io.opentelemetry.instrumentation.spring.autoconfigure.OpenTelemetryAutoConfiguration"
    })
@ConditionalOnWebApplication(type = ConditionalOnWebApplication.Type.SERVLET)
@ConditionalOnClass({TracingFilter.class, FilterRegistrationBean.class})
@ConditionalOnProperty(
    name = TraceletProperties.ENABLED,
    havingValue = "true",
    matchIfMissing = true)
public class TraceletAutoConfiguration {

  /**
   * The filter's order: after the filters that start a server span of their own (Spring's {@code
   * ServerHttpObservationFilter} and OpenTelemetry's Spring MVC filter, both at {@code
   * HIGHEST_PRECEDENCE + 1}), whose span the filter then joins instead of starting a second one;
   * well before Spring Security ({@code -100}), so a 401 or 403 still has a request ID and a span.
   */
  public static final int FILTER_ORDER = Ordered.HIGHEST_PRECEDENCE + 10;

  /** The name of the filter's registration bean; define a bean of this name to replace it. */
  public static final String FILTER_BEAN_NAME = "traceletFilter";

  private static final Logger log = LoggerFactory.getLogger(TraceletAutoConfiguration.class);

  /** The settings from the {@code tracelet.*} properties, and the OpenTelemetry to use. */
  @Bean
  @ConditionalOnMissingBean
  TracingConfig traceletTracingConfig(
      Environment environment, ObjectProvider<OpenTelemetry> openTelemetry) {
    Set<String> unknown = TraceletProperties.unknownProperties(environment);
    if (!unknown.isEmpty()) {
      log.warn(
          "Tracelet: unknown properties {} are ignored; the Tracelet properties are {}",
          unknown,
          TraceletProperties.allPropertyNames());
    }
    TracingConfig.Builder builder = TraceletProperties.bind(environment, TracingConfig.builder());
    OpenTelemetry otel = openTelemetry.getIfUnique();
    if (otel != null) {
      builder.openTelemetry(otel);
    }
    // Without a bean: the filter takes GlobalOpenTelemetry (the Java agent's, when it runs).
    return builder.build();
  }

  /** The filter, as a bean so that the application can read its counters. */
  @Bean
  @ConditionalOnMissingBean
  TracingFilter traceletTracingFilter(TracingConfig config) {
    return new TracingFilter(config);
  }

  /** Registers the filter for every request, at {@link #FILTER_ORDER}. */
  @Bean(name = FILTER_BEAN_NAME)
  @ConditionalOnMissingBean(name = FILTER_BEAN_NAME)
  FilterRegistrationBean<TracingFilter> traceletFilter(TracingFilter filter) {
    FilterRegistrationBean<TracingFilter> bean = new FilterRegistrationBean<>(filter);
    bean.setName("tracelet");
    bean.addUrlPatterns("/*");
    // ERROR too: an error page rendered after the request's own dispatch (Spring Boot's /error)
    // passes through the filter, which leaves it in the request's context.
    bean.setDispatcherTypes(DispatcherType.REQUEST, DispatcherType.ASYNC, DispatcherType.ERROR);
    bean.setAsyncSupported(true);
    bean.setOrder(FILTER_ORDER);
    return bean;
  }

  /**
   * OpenTelemetry set up by Tracelet when the application has none: the span log by default, OTLP
   * when configured; closed (flushing pending spans) with the application context. Under the Java
   * agent it is the agent's, left alone on close.
   */
  @Configuration(proxyBeanMethods = false)
  @ConditionalOnClass(name = "io.tracelet.sdk.TraceletOpenTelemetry")
  @ConditionalOnMissingBean(OpenTelemetry.class)
  static class SdkSetup {

    @Bean(destroyMethod = "close")
    TraceletOpenTelemetry traceletOpenTelemetry(Environment environment) {
      TraceletOpenTelemetry.Builder builder = TraceletOpenTelemetry.builder();
      Binder binder = Binder.get(environment);
      for (String name : TraceletProperties.SDK_PROPERTIES) {
        binder.bind(name, String.class).ifBound(value -> builder.setProperty(name, value));
      }
      for (String name : OtelProperties.names(environment)) {
        String value = environment.getProperty(name);
        if (value != null) {
          builder.setProperty(name, value);
        }
      }
      // The context closes it; a hook of its own would race Spring's shutdown.
      builder.setShutdownHook(false);
      return builder.initialize();
    }

    // No destroy method: the handle owns the SDK and closes it (with its close timeout, reporting
    // spans lost). Spring would otherwise infer OpenTelemetrySdk.close() and shut it down first.
    @Bean(destroyMethod = "")
    OpenTelemetry traceletOpenTelemetrySdk(TraceletOpenTelemetry handle) {
      return handle.openTelemetry();
    }
  }

  /** Routes, controller parameters and the 504 answer, for Spring MVC. */
  @Configuration(proxyBeanMethods = false)
  @ConditionalOnClass(name = "org.springframework.web.servlet.config.annotation.WebMvcConfigurer")
  static class WebMvc {

    @Bean
    WebMvcConfigurer traceletWebMvcConfigurer() {
      return new WebMvcConfigurer() {
        @Override
        public void addInterceptors(InterceptorRegistry registry) {
          registry.addInterceptor(new TraceletHandlerInterceptor());
        }

        @Override
        public void addArgumentResolvers(List<HandlerMethodArgumentResolver> resolvers) {
          resolvers.add(new TraceletArgumentResolver());
        }
      };
    }

    @Bean
    TraceletExceptionHandler traceletExceptionHandler() {
      return new TraceletExceptionHandler();
    }
  }

  /**
   * Under Micrometer Tracing: Spring Security's filter-chain observations (on by default) open
   * scopes around the rest of the chain, controllers included, whose OpenTelemetry context is the
   * one Spring's observation filter made before Tracelet's filter ran (Micrometer's bridge derives
   * a child span's context from its parent span's stored context, not from the current one). Inside
   * them the request's ID, deadline and cancellation would be lost, so they are turned off; {@code
   * tracelet.keep-spring-security-observations=true} keeps them.
   */
  @Configuration(proxyBeanMethods = false)
  @ConditionalOnClass(
      name = {"io.micrometer.observation.ObservationPredicate", "io.micrometer.tracing.Tracer"})
  @ConditionalOnProperty(
      name = TraceletProperties.KEEP_SECURITY_OBSERVATIONS,
      havingValue = "false",
      matchIfMissing = true)
  static class MicrometerTracing {
    static final List<String> SECURITY_OBSERVATIONS =
        List.of(
            "spring.security.filterchains",
            "spring.security.http.secured.requests",
            "spring.security.http.unsecured.requests");

    @Bean
    io.micrometer.observation.ObservationPredicate traceletSecurityObservationPredicate() {
      return (name, context) -> !SECURITY_OBSERVATIONS.contains(name);
    }
  }

  /** The interceptor on every {@code RestClient.Builder} and {@code RestTemplate} bean. */
  @Configuration(proxyBeanMethods = false)
  @ConditionalOnClass(name = "org.springframework.web.client.RestClient")
  static class Clients {

    @Bean
    static BeanPostProcessor traceletRestClientPostProcessor(
        ObjectProvider<TracingConfig> config,
        ObjectProvider<TracingFilter> filter,
        Environment environment) {
      return new ClientPostProcessor(config, filter, environment);
    }
  }

  /** Adds the interceptor; looks up its collaborators only when the first client is built. */
  static final class ClientPostProcessor implements BeanPostProcessor {
    private final ObjectProvider<TracingConfig> config;
    private final ObjectProvider<TracingFilter> filter;
    private final Environment environment;
    private TraceletClientHttpRequestInterceptor interceptor;

    ClientPostProcessor(
        ObjectProvider<TracingConfig> config,
        ObjectProvider<TracingFilter> filter,
        Environment environment) {
      this.config = config;
      this.filter = filter;
      this.environment = environment;
    }

    @Override
    public Object postProcessAfterInitialization(Object bean, String beanName)
        throws BeansException {
      if (bean instanceof RestClient.Builder builder) {
        builder.requestInterceptor(interceptor());
      } else if (bean instanceof RestTemplate template
          && template.getInterceptors().stream()
              .noneMatch(TraceletClientHttpRequestInterceptor.class::isInstance)) {
        template.getInterceptors().add(interceptor());
      }
      return bean;
    }

    private synchronized TraceletClientHttpRequestInterceptor interceptor() {
      if (interceptor == null) {
        TracingConfig c = config.getIfAvailable(TracingConfig::defaults);
        OpenTelemetry otel =
            c.openTelemetry() != null ? c.openTelemetry() : GlobalOpenTelemetry.get();
        Supplier<TextMapPropagator> propagator =
            () -> {
              TracingFilter f = filter.getIfAvailable();
              try {
                // The filter's propagators, with its baggage allow-list, once it has started.
                return f != null ? f.outboundPropagator() : otelPropagator(otel);
              } catch (IllegalStateException notStarted) {
                return otelPropagator(otel);
              }
            };
        String requestIdHeader = setting(c, Setting.REQUEST_ID_HEADER);
        String deadlineHeader = setting(c, Setting.DEADLINE_HEADER);
        interceptor =
            new TraceletClientHttpRequestInterceptor(
                otel,
                propagator,
                requestIdHeader,
                "none".equals(deadlineHeader.toLowerCase(Locale.ROOT)) ? null : deadlineHeader);
      }
      return interceptor;
    }

    private String setting(TracingConfig c, Setting setting) {
      String value = c.explicitValues().get(setting);
      if (value == null) {
        value = environment.getProperty(setting.systemProperty());
      }
      if (value == null || value.isBlank()) {
        value = setting.defaultValue();
      }
      return value.trim();
    }

    private static TextMapPropagator otelPropagator(OpenTelemetry otel) {
      return otel.getPropagators().getTextMapPropagator();
    }
  }
}
