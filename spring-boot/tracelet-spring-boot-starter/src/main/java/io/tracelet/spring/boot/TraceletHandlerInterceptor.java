package io.tracelet.spring.boot;

import io.tracelet.servlet.TracingFilter;
import jakarta.servlet.DispatcherType;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import org.springframework.web.servlet.HandlerInterceptor;
import org.springframework.web.servlet.HandlerMapping;
import org.springframework.web.servlet.resource.ResourceHttpRequestHandler;

/**
 * Names the request's route after Spring MVC's matched pattern ({@code /orders/{id}}), for the
 * server span's name and {@code http.route}. Requests no handler matched keep the filter's
 * low-cardinality fallback.
 */
final class TraceletHandlerInterceptor implements HandlerInterceptor {

  @Override
  public boolean preHandle(
      HttpServletRequest request, HttpServletResponse response, Object handler) {
    // The error page's own mapping (/error) is not the route of the request that failed.
    if (request.getDispatcherType() == DispatcherType.ERROR) {
      return true;
    }
    // Static resources match /**, including paths that turn out not to exist: a 404 keeps the
    // filter's fallback name rather than a pattern that names no route.
    if (handler instanceof ResourceHttpRequestHandler) {
      return true;
    }
    Object pattern = request.getAttribute(HandlerMapping.BEST_MATCHING_PATTERN_ATTRIBUTE);
    if (pattern != null) {
      // A String, or a PathPattern whose toString() is its pattern text.
      String text = pattern.toString();
      if (!text.isEmpty()) {
        TracingFilter.setRoute(request, routeOf(request, text));
      }
    }
    return true;
  }

  /** The pattern under the context path and the dispatcher servlet's path, as the filter's own. */
  static String routeOf(HttpServletRequest request, String pattern) {
    String contextPath = request.getContextPath() == null ? "" : request.getContextPath();
    String servletPath = "";
    if (request.getHttpServletMapping() != null
        && request.getHttpServletMapping().getMappingMatch()
            == jakarta.servlet.http.MappingMatch.PATH) {
      // A dispatcher servlet mapped to /api/*: its patterns are relative to /api.
      servletPath = request.getServletPath() == null ? "" : request.getServletPath();
    }
    String prefix = contextPath + servletPath;
    if (prefix.isEmpty()) {
      return pattern;
    }
    return pattern.startsWith("/") ? prefix + pattern : prefix + "/" + pattern;
  }
}
