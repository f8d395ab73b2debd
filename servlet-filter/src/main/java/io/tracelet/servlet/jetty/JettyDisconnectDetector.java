package io.tracelet.servlet.jetty;

import io.tracelet.servlet.internal.container.DisconnectDetector;
import jakarta.servlet.http.HttpServletRequest;
import java.time.Duration;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Notices, on Jetty 12 (ee10 or ee11), that the client of a request closed its connection while the
 * application is still working on it, over HTTP/1.1 and HTTP/2 (including h2c).
 *
 * <pre>{@code
 * DisconnectDetector detector = new JettyDisconnectDetector();
 * try (DisconnectDetector.Watch watch = detector.watch(request, context::cancel)) {
 *   chain.doFilter(request, response);
 * }
 * }</pre>
 *
 * <p>The watch must be closed before the dispatch returns to Jetty, as above, or, for a request
 * that goes asynchronous, {@link DisconnectDetector.Watch#asyncStarted} called on that dispatch: a
 * synchronous HTTP/1.1 request registers nothing with Jetty that would end the watch for it.
 *
 * <p>HTTP/2 (and TLS): Jetty's request failure listener and the connection's close listener.
 * HTTP/1.1 over plain TCP: instead, a read probe that sees the client's FIN without reading the
 * connection's input, made and armed (with the request's failure listener) only once the request
 * body has been read completely and the request has run for {@link #ARMING_DELAY} (see {@code
 * ReadProbe}); nothing has to be installed on the connector. A client that left while its request
 * waited for a thread is reported before {@code watch} returns, so the application starts with the
 * context already cancelled; a disconnect noticed later is handed to a daemon thread of our own,
 * never run on Jetty's selector or pool. Requests that are not Jetty ee10 or ee11 requests, or
 * Jetty classes that are not visible (for example from a web application deployed in a Jetty
 * distribution, which hides server classes), give a watch that never fires.
 */
public final class JettyDisconnectDetector implements DisconnectDetector {
  private static final Logger logger = LoggerFactory.getLogger(JettyDisconnectDetector.class);

  /**
   * How long a request runs before its HTTP/1.1 read probe starts looking at the socket. Most
   * requests end before, and then never register read interest with Jetty's selector, which costs a
   * selector update and wake-up, and later a stale wake-up, per request. A client that leaves
   * earlier is seen once the delay has passed, well within the one second a disconnect may take to
   * be seen.
   */
  static final Duration ARMING_DELAY = Duration.ofMillis(100);

  /**
   * A request whose headers are this old when it is watched may have waited for a thread while its
   * client left; its socket is looked at right away (see {@link ProbeTiming}). Below the arming
   * delay, above the time filters in front of ours usually take.
   */
  static final Duration LATE_AFTER = Duration.ofMillis(50);

  private final boolean jettyVisible;
  private final ProbeTiming timing;

  /** Creates a detector; never fails, even without Jetty on the class path. */
  public JettyDisconnectDetector() {
    this(ARMING_DELAY, LATE_AFTER);
  }

  /** A detector with other timings; for tests. */
  JettyDisconnectDetector(Duration armingDelay, Duration lateAfter) {
    this.jettyVisible = jettyVisible();
    this.timing = new ProbeTiming(armingDelay, lateAfter, ProbeTiming.POOL_SHORT_WINDOW);
  }

  @Override
  public Watch watch(HttpServletRequest request, Runnable onDisconnect) {
    Objects.requireNonNull(request, "request");
    Objects.requireNonNull(onDisconnect, "onDisconnect");
    if (!jettyVisible) {
      return Watch.NONE;
    }
    try {
      return JettyWatches.watch(request, onDisconnect, timing);
    } catch (RuntimeException | LinkageError e) {
      // LinkageError: a Jetty 12 older or newer than the one we were built against.
      // Disconnect detection is best effort; it must never fail the request.
      logger.debug("Not watching this request for a client disconnect", e);
      return Watch.NONE;
    }
  }

  private static boolean jettyVisible() {
    ClassLoader loader = JettyDisconnectDetector.class.getClassLoader();
    try {
      Class.forName("org.eclipse.jetty.server.internal.HttpConnection", false, loader);
      Class.forName(JettyWatches.class.getName(), true, loader);
      if (!JettyWatches.anyEnvironment()) {
        logger.debug("Neither Jetty ee10 nor ee11 is visible; client disconnects not detected");
        return false;
      }
      return true;
    } catch (ClassNotFoundException | LinkageError e) {
      logger.debug("Jetty is not visible; client disconnects will not be detected", e);
      return false;
    }
  }
}
