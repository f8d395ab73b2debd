package io.tracelet.servlet;

import io.tracelet.servlet.internal.Exchange;
import jakarta.servlet.AsyncContext;
import jakarta.servlet.AsyncEvent;
import jakarta.servlet.AsyncListener;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A request's exchange, kept as a request attribute so that asynchronous dispatches resume it, and
 * the {@link AsyncListener} that finishes it when an asynchronous request ends.
 */
final class RequestState implements AsyncListener {

  final Exchange exchange;
  final HttpServletRequest request;
  final HttpServletResponse response;
  private final AtomicBoolean listening = new AtomicBoolean();

  RequestState(Exchange exchange, HttpServletRequest request, HttpServletResponse response) {
    this.exchange = exchange;
    this.request = request;
    this.response = response;
  }

  /** Whether an asynchronous cycle was seen, so that the listener finishes the exchange. */
  boolean isListening() {
    return listening.get();
  }

  /**
   * Registers this listener on the first asynchronous cycle; later cycles re-register it in {@link
   * #onStartAsync}. Returns an async context whose {@code start(Runnable)} runs in the request
   * context.
   */
  AsyncContext onStartAsync(AsyncContext asyncContext) {
    if (listening.compareAndSet(false, true)) {
      asyncContext.addListener(this, request, response);
    }
    return new TracingAsyncContext(asyncContext, exchange.context());
  }

  void finish(Throwable failure) {
    exchange.finish(
        response.getStatus(), failure, response.isCommitted(), TracingFilter.routeOf(request));
  }

  @Override
  public void onComplete(AsyncEvent event) {
    finish(null);
  }

  @Override
  public void onTimeout(AsyncEvent event) {
    exchange.asyncTimedOut();
  }

  @Override
  public void onError(AsyncEvent event) {
    exchange.recordFailure(event.getThrowable());
  }

  @Override
  public void onStartAsync(AsyncEvent event) {
    // The container drops listeners when an asynchronous cycle starts again: stay registered.
    event.getAsyncContext().addListener(this, request, response);
  }
}
