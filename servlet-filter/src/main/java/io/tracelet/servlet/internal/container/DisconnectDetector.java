package io.tracelet.servlet.internal.container;

import jakarta.servlet.http.HttpServletRequest;

/**
 * Notices that the client of a request went away while the application is still working on it.
 * Container specific: the Jetty implementation lives in its own package and is loaded only when
 * Jetty is on the class path; elsewhere nothing is detected.
 */
public interface DisconnectDetector {

  /**
   * Starts watching {@code request}; calls {@code onDisconnect} at most once, on any thread, when
   * the client disconnects. Closing the returned watch removes everything that was registered.
   *
   * <p>Close the watch before the dispatch that created it returns to the container, or, if the
   * request goes asynchronous, call {@link Watch#asyncStarted} on that dispatch and close the watch
   * when the request completes: a container may only be able to learn the end of a request from the
   * request's own thread (see {@code JettyWatches}).
   */
  Watch watch(HttpServletRequest request, Runnable onDisconnect);

  /** A running watch; closing it is idempotent. */
  interface Watch extends AutoCloseable {
    Watch NONE = () -> {};

    /**
     * The request went asynchronous: the watch will be closed after the dispatch returns. Called on
     * the dispatch that started the asynchronous cycle, before it returns to the container.
     */
    default void asyncStarted() {}

    @Override
    void close();
  }

  /** A detector for containers where nothing can be detected. */
  DisconnectDetector NONE = (request, onDisconnect) -> Watch.NONE;
}
