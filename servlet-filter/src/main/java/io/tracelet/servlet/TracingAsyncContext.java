package io.tracelet.servlet;

import io.opentelemetry.context.Context;
import jakarta.servlet.AsyncContext;
import jakarta.servlet.AsyncListener;
import jakarta.servlet.ServletContext;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;

/**
 * An {@link AsyncContext} whose {@link #start(Runnable)} runs the task in the request context: the
 * container runs it on a pool thread that knows nothing of the request.
 */
final class TracingAsyncContext implements AsyncContext {

  private final AsyncContext delegate;
  private final Context context;

  TracingAsyncContext(AsyncContext delegate, Context context) {
    this.delegate = delegate;
    this.context = context;
  }

  @Override
  public void start(Runnable run) {
    delegate.start(context.wrap(run));
  }

  @Override
  public ServletRequest getRequest() {
    return delegate.getRequest();
  }

  @Override
  public ServletResponse getResponse() {
    return delegate.getResponse();
  }

  @Override
  public boolean hasOriginalRequestAndResponse() {
    return delegate.hasOriginalRequestAndResponse();
  }

  @Override
  public void dispatch() {
    delegate.dispatch();
  }

  @Override
  public void dispatch(String path) {
    delegate.dispatch(path);
  }

  @Override
  public void dispatch(ServletContext servletContext, String path) {
    delegate.dispatch(servletContext, path);
  }

  @Override
  public void complete() {
    delegate.complete();
  }

  @Override
  public void addListener(AsyncListener listener) {
    delegate.addListener(listener);
  }

  @Override
  public void addListener(
      AsyncListener listener, ServletRequest servletRequest, ServletResponse servletResponse) {
    delegate.addListener(listener, servletRequest, servletResponse);
  }

  @Override
  public <T extends AsyncListener> T createListener(Class<T> clazz) throws ServletException {
    return delegate.createListener(clazz);
  }

  @Override
  public void setTimeout(long timeout) {
    delegate.setTimeout(timeout);
  }

  @Override
  public long getTimeout() {
    return delegate.getTimeout();
  }
}
