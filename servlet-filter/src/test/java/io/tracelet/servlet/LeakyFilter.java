package io.tracelet.servlet;

import io.opentelemetry.context.Context;
import io.opentelemetry.context.Scope;
import jakarta.servlet.Filter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.http.HttpServletRequest;
import java.io.IOException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Stands in for earlier code that left a context on the thread: on {@code /leak} it makes a context
 * current around the rest of the chain, and checks it is still current afterwards.
 */
public class LeakyFilter implements Filter {

  final AtomicInteger restored = new AtomicInteger();
  final AtomicInteger notRestored = new AtomicInteger();

  @Override
  public void doFilter(ServletRequest request, ServletResponse response, FilterChain chain)
      throws IOException, ServletException {
    if (!"/leak".equals(((HttpServletRequest) request).getServletPath())) {
      chain.doFilter(request, response);
      return;
    }
    Context leaked = Context.root().with(AppServlet.LEAK, "from-earlier-request");
    try (Scope ignored = leaked.makeCurrent()) {
      chain.doFilter(request, response);
      if (Context.current() == leaked) {
        restored.incrementAndGet();
      } else {
        notRestored.incrementAndGet();
      }
    }
  }
}
