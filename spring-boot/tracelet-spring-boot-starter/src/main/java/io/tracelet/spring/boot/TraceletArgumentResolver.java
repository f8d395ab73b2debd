package io.tracelet.spring.boot;

import io.opentelemetry.context.Context;
import io.tracelet.Cancellation;
import io.tracelet.Deadline;
import io.tracelet.RequestId;
import org.springframework.core.MethodParameter;
import org.springframework.web.bind.support.WebDataBinderFactory;
import org.springframework.web.context.request.NativeWebRequest;
import org.springframework.web.method.support.HandlerMethodArgumentResolver;
import org.springframework.web.method.support.ModelAndViewContainer;

/**
 * Gives a controller method the request's {@link Cancellation}, {@link Deadline} ({@code null} when
 * the request has none) and {@link RequestId}, Go's {@code r.Context()}:
 *
 * <pre>{@code
 * @GetMapping("/orders/{id}")
 * Order order(@PathVariable String id, Cancellation cancellation, RequestId requestId) {
 *   cancellation.throwIfCancelled();
 *   ...
 * }
 * }</pre>
 */
final class TraceletArgumentResolver implements HandlerMethodArgumentResolver {

  @Override
  public boolean supportsParameter(MethodParameter parameter) {
    Class<?> type = parameter.getParameterType();
    return type == Cancellation.class || type == Deadline.class || type == RequestId.class;
  }

  @Override
  public Object resolveArgument(
      MethodParameter parameter,
      ModelAndViewContainer mavContainer,
      NativeWebRequest webRequest,
      WebDataBinderFactory binderFactory) {
    // The handler runs on the request's thread inside the filter's scope (or, for an async
    // dispatch, inside the scope the filter restored), so the current context is the request's.
    Context context = Context.current();
    Class<?> type = parameter.getParameterType();
    if (type == Cancellation.class) {
      return Cancellation.fromContext(context);
    }
    if (type == Deadline.class) {
      return Cancellation.fromContext(context).deadline();
    }
    RequestId id = RequestId.fromContext(context);
    // Outside the filter (an excluded path): a fresh ID rather than null, as the filter would do.
    return id != null ? id : RequestId.generate();
  }
}
