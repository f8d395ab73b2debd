package io.tracelet.servlet;

import jakarta.servlet.AsyncContext;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletRequestWrapper;

/**
 * The request the application sees: starting asynchronous processing registers the filter's
 * listener at once (not after the chain returns, when a quick {@code dispatch()} could already be
 * under way), and the async context it returns runs {@code start(Runnable)} tasks in the request
 * context.
 */
final class TracingRequest extends HttpServletRequestWrapper {

  final RequestState state;

  TracingRequest(HttpServletRequest request, RequestState state) {
    super(request);
    this.state = state;
  }

  @Override
  public AsyncContext startAsync() {
    return state.onStartAsync(super.startAsync());
  }

  @Override
  public AsyncContext startAsync(ServletRequest request, ServletResponse response) {
    return state.onStartAsync(super.startAsync(request, response));
  }

  @Override
  public AsyncContext getAsyncContext() {
    AsyncContext ac = super.getAsyncContext();
    return ac == null || ac instanceof TracingAsyncContext
        ? ac
        : new TracingAsyncContext(ac, state.exchange().context());
  }
}
