package io.tracelet.servlet;

import jakarta.servlet.DispatcherType;
import jakarta.servlet.FilterRegistration;
import jakarta.servlet.ServletContainerInitializer;
import jakarta.servlet.ServletContext;
import jakarta.servlet.ServletException;
import java.util.EnumSet;
import java.util.Set;

/**
 * Opt-in auto-registration: with the context-param {@code tracelet.auto-register=true}, adds a
 * {@link TracingFilter} named {@value #FILTER_NAME} in front of every other filter, for {@code /*}
 * and the {@code REQUEST} and {@code ASYNC} dispatches. Without that parameter it does nothing, so
 * having the jar on the class path never changes an application by itself.
 *
 * <pre>{@code
 * <context-param>
 *   <param-name>tracelet.auto-register</param-name>
 *   <param-value>true</param-value>
 * </context-param>
 * }</pre>
 */
public final class TracingInitializer implements ServletContainerInitializer {

  /** The context-param that turns auto-registration on. */
  public static final String AUTO_REGISTER_PARAM = "tracelet.auto-register";

  /** The name the filter is registered under. */
  public static final String FILTER_NAME = "tracelet";

  @Override
  public void onStartup(Set<Class<?>> classes, ServletContext context) throws ServletException {
    String flag = context.getInitParameter(AUTO_REGISTER_PARAM);
    if (flag == null || flag.trim().equalsIgnoreCase("false")) {
      return;
    }
    if (!flag.trim().equalsIgnoreCase("true")) {
      throw new ServletException(
          "context-param " + AUTO_REGISTER_PARAM + " must be true or false, not \"" + flag + "\"");
    }
    if (context.getFilterRegistration(FILTER_NAME) != null) {
      return;
    }
    FilterRegistration.Dynamic registration = context.addFilter(FILTER_NAME, new TracingFilter());
    if (registration == null) {
      return;
    }
    registration.setAsyncSupported(true);
    registration.addMappingForUrlPatterns(
        EnumSet.of(DispatcherType.REQUEST, DispatcherType.ASYNC), false, "/*");
  }
}
