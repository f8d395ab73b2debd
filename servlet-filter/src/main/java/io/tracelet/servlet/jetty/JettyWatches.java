package io.tracelet.servlet.jetty;

import io.tracelet.servlet.internal.DisconnectDetector.Watch;
import jakarta.servlet.http.HttpServletRequest;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.eclipse.jetty.ee10.servlet.ServletContextRequest;
import org.eclipse.jetty.io.Connection;
import org.eclipse.jetty.server.Request;

/**
 * The Jetty-typed half of {@link JettyDisconnectDetector}, kept apart so that the detector class
 * itself loads even where these Jetty classes are missing.
 */
final class JettyWatches {
  private JettyWatches() {}

  /** Jetty's core request behind an ee10 servlet request (also through wrappers), or null. */
  static Request coreRequest(HttpServletRequest request) {
    try {
      return ServletContextRequest.getServletContextRequest(request);
    } catch (IllegalStateException notJetty) {
      return null;
    }
  }

  static Watch watch(HttpServletRequest servletRequest, Runnable onDisconnect) {
    Request request = coreRequest(servletRequest);
    if (request == null) {
      return Watch.NONE;
    }
    AtomicReference<Runnable> action = new AtomicReference<>(onDisconnect);
    AtomicReference<Watch> created = new AtomicReference<>();
    try {
      // A watch the application forgets to close ends with its request: a completed request has
      // no client left to lose, and nothing may stay registered on a keep-alive connection.
      Request.addCompletionListener(
          request,
          failure -> {
            action.set(null);
            Watch watch = created.get();
            if (watch != null) {
              watch.close();
            }
          });
    } catch (IllegalStateException alreadyCompleted) {
      return Watch.NONE;
    }
    Runnable fire =
        () -> {
          Runnable once = action.getAndSet(null);
          if (once != null) {
            once.run();
          }
        };
    // HTTP/2: the session keeps reading, so a client that leaves resets or closes the stream and
    // Jetty fails the request. A failure listener cannot be removed; it lives as long as the
    // request and does nothing once the watch is closed.
    request.addFailureListener(failure -> fire.run());
    // Any protocol: the connection was closed under the request, by the client or by Jetty.
    Connection connection = request.getConnectionMetaData().getConnection();
    Connection.Listener closeListener =
        new Connection.Listener() {
          @Override
          public void onClosed(Connection closed) {
            fire.run();
          }
        };
    connection.addEventListener(closeListener);
    // HTTP/1.1: Jetty does not read while the request is handled; see ReadProbe.
    Watch probe = ReadProbe.watch(request, fire);
    Watch watch = new Watching(action, connection, closeListener, probe);
    created.set(watch);
    if (action.get() == null) {
      // Completed (or already fired) while we were registering.
      watch.close();
    } else if (!connection.getEndPoint().isOpen()) {
      // Closed before the listener was added, so onClosed will not come.
      fire.run();
    }
    return watch;
  }

  private static final class Watching implements Watch {
    private final AtomicReference<Runnable> action;
    private final Connection connection;
    private final Connection.Listener closeListener;
    private final Watch probe;
    private final AtomicBoolean closed = new AtomicBoolean();

    Watching(
        AtomicReference<Runnable> action,
        Connection connection,
        Connection.Listener closeListener,
        Watch probe) {
      this.action = action;
      this.connection = connection;
      this.closeListener = closeListener;
      this.probe = probe;
    }

    @Override
    public void close() {
      if (!closed.compareAndSet(false, true)) {
        return;
      }
      action.set(null);
      connection.removeEventListener(closeListener);
      if (probe != null) {
        probe.close();
      }
    }
  }
}
