package io.tracelet.servlet;

import io.tracelet.servlet.internal.Exchange;
import io.tracelet.servlet.internal.HeaderSink;
import jakarta.servlet.AsyncContext;
import jakarta.servlet.AsyncEvent;
import jakarta.servlet.AsyncListener;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.util.concurrent.atomic.AtomicIntegerFieldUpdater;

/**
 * A request's exchange, kept as a request attribute once an asynchronous cycle starts so that
 * asynchronous dispatches resume it, and the {@link AsyncListener} that finishes it when an
 * asynchronous request ends.
 *
 * <p>It is also where the exchange writes its response headers ({@link HeaderSink}) and what the
 * disconnect detector runs when the client leaves ({@link Runnable}): one object per request
 * instead of three (the filter's allocation per request is measured in docs/performance.md).
 */
final class RequestState implements AsyncListener, HeaderSink, Runnable {

  private static final AtomicIntegerFieldUpdater<RequestState> LISTENING =
      AtomicIntegerFieldUpdater.newUpdater(RequestState.class, "listening");

  final Exchange exchange;
  final HttpServletRequest request;
  final HttpServletResponse response;
  private volatile int listening;

  RequestState(Exchange exchange, HttpServletRequest request, HttpServletResponse response) {
    this.exchange = exchange;
    this.request = request;
    this.response = response;
  }

  /** Whether an asynchronous cycle was seen, so that the listener finishes the exchange. */
  boolean isListening() {
    return listening != 0;
  }

  /**
   * Registers this listener on the first asynchronous cycle; later cycles re-register it in {@link
   * #onStartAsync}. Returns an async context whose {@code start(Runnable)} runs in the request
   * context.
   */
  AsyncContext onStartAsync(AsyncContext asyncContext) {
    if (LISTENING.compareAndSet(this, 0, 1)) {
      // Asynchronous dispatches of this request find the state here; set now, before the
      // application can dispatch, and not for every request (see TracingFilter.wrappedState).
      request.setAttribute(TracingFilter.STATE_ATTRIBUTE, this);
      asyncContext.addListener(this, request, response);
    }
    return new TracingAsyncContext(asyncContext, exchange.context());
  }

  /** Sets a response header of the exchange. */
  @Override
  public void set(String name, String value) {
    response.setHeader(name, value);
  }

  /** The client disconnected: cancels the request context. */
  @Override
  public void run() {
    exchange.clientDisconnected();
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
