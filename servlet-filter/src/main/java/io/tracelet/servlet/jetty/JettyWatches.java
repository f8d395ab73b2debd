package io.tracelet.servlet.jetty;

import io.tracelet.servlet.internal.container.DisconnectDetector.Watch;
import jakarta.servlet.http.HttpServletRequest;
import java.util.concurrent.atomic.AtomicIntegerFieldUpdater;
import java.util.concurrent.atomic.AtomicReferenceFieldUpdater;
import java.util.function.Consumer;
import org.eclipse.jetty.io.Connection;
import org.eclipse.jetty.server.Request;

/**
 * The Jetty-typed half of {@link JettyDisconnectDetector}, kept apart so that the detector class
 * itself loads even where these Jetty classes are missing.
 */
final class JettyWatches {
  private JettyWatches() {}

  // Which servlet environments are present, decided once: each lookup class links against its
  // own environment's classes, so only the present ones are ever loaded.
  static final boolean EE10 = present("org.eclipse.jetty.ee10.servlet.ServletContextRequest");
  static final boolean EE11 = present("org.eclipse.jetty.ee11.servlet.ServletContextRequest");

  /** Whether Jetty's ee10 or ee11 servlet environment is visible. */
  static boolean anyEnvironment() {
    return EE10 || EE11;
  }

  /**
   * Jetty's core request behind an ee10 or ee11 servlet request (also through wrappers), or null.
   */
  static Request coreRequest(HttpServletRequest request) {
    Request core = EE10 ? Ee10Requests.coreRequest(request) : null;
    if (core == null && EE11) {
      core = Ee11Requests.coreRequest(request);
    }
    return core;
  }

  private static boolean present(String className) {
    try {
      Class.forName(className, false, JettyWatches.class.getClassLoader());
      return true;
    } catch (ClassNotFoundException | LinkageError e) {
      return false;
    }
  }

  static Watch watch(HttpServletRequest servletRequest, Runnable onDisconnect, ProbeTiming timing) {
    Request request = coreRequest(servletRequest);
    if (request == null) {
      return Watch.NONE;
    }
    Connection connection = request.getConnectionMetaData().getConnection();
    Watching watch = new Watching(onDisconnect, connection);
    // HTTP/1.1 over plain TCP: Jetty does not read while the request is handled; see ReadProbe.
    ReadProbe probe = ReadProbe.forRequest(request, timing);
    if (probe != null) {
      // Nothing else is registered with Jetty now: the probe learns of the request's end from the
      // watch's close (on this dispatch, or, once asyncStarted() was called, from the stream), and
      // registers everything it needs only when the request outlives the arming delay.
      ReadProbe.Added added = probe.add(watch);
      if (added == ReadProbe.Added.ENDED) {
        return Watch.NONE;
      }
      watch.probe = added == ReadProbe.Added.WATCHING ? probe : null;
      watch.registered = true;
      if (added == ReadProbe.Added.GONE || !connection.getEndPoint().isOpen()) {
        // The client left while the request waited for a thread (or the connection is closed
        // already): the action runs here, so that the application starts with the context
        // already cancelled.
        watch.deliver();
      }
      return watch;
    }
    // Any other connection (HTTP/2, TLS, a Unix socket): Jetty's own listeners.
    try {
      // A watch the application forgets to close ends with its request: a completed request
      // has no client left to lose, and nothing may stay registered on a keep-alive connection.
      Request.addCompletionListener(request, failure -> watch.completed());
    } catch (IllegalStateException alreadyCompleted) {
      return Watch.NONE;
    }
    // The connection was closed under the request, by the client or by Jetty.
    connection.addEventListener(watch);
    watch.listensToConnection = true;
    // HTTP/2: the session keeps reading, so a client that leaves resets or closes the stream and
    // Jetty fails the request. A failure listener cannot be removed; it lives as long as the
    // request and does nothing once the watch is closed.
    request.addFailureListener(watch);
    watch.registered = true;
    if (watch.action == null) {
      // Completed (or already fired) while we were registering.
      watch.close();
    } else if (!connection.getEndPoint().isOpen()) {
      // The connection closed before our listener was added, so onClosed will not come.
      watch.deliver();
    }
    return watch;
  }

  /**
   * One watch, and every listener it registers: the connection's close listener, the request's
   * failure listener and the probe's callback are this object, so a watch costs one allocation
   * besides Jetty's own registrations.
   *
   * <p>Those listeners are called on Jetty's threads, often the selector; they only hand the action
   * to the {@link DisconnectNotifier} thread (see there why). The action still runs at most once,
   * and not at all if the watch was closed before the notification thread got to it.
   */
  private static final class Watching
      implements Watch, Connection.Listener, Runnable, Consumer<Throwable> {
    private static final AtomicReferenceFieldUpdater<Watching, Runnable> ACTION =
        AtomicReferenceFieldUpdater.newUpdater(Watching.class, Runnable.class, "action");
    private static final AtomicIntegerFieldUpdater<Watching> CLOSED =
        AtomicIntegerFieldUpdater.newUpdater(Watching.class, "closed");

    private final Connection connection;
    // The disconnect action until it runs or the watch closes, then null.
    private volatile Runnable action;
    private volatile int closed;
    // Set once registration is complete; a completion before that leaves the closing to watch().
    private volatile boolean registered;
    private ReadProbe probe;
    // Whether this watch is one of the connection's listeners (not under a read probe).
    private boolean listensToConnection;

    Watching(Runnable action, Connection connection) {
      this.action = action;
      this.connection = connection;
    }

    /** The client is gone (any listener, on Jetty's thread): hands the action over. */
    @Override
    public void run() {
      if (action != null) {
        DisconnectNotifier.execute(this::deliver);
      }
    }

    /** Runs the action on this thread, at most once. */
    void deliver() {
      Runnable once = ACTION.getAndSet(this, null);
      if (once != null) {
        once.run();
      }
    }

    /** The request failed (HTTP/2 reset or close). */
    @Override
    public void accept(Throwable failure) {
      run();
    }

    @Override
    public void onClosed(Connection closedConnection) {
      run();
    }

    /** The request went asynchronous: its probe must now learn of its end from the stream. */
    @Override
    public void asyncStarted() {
      ReadProbe p = probe;
      if (p != null) {
        p.followStream();
      }
    }

    /** The request completed. */
    void completed() {
      action = null;
      if (registered) {
        close();
      }
    }

    @Override
    public void close() {
      if (!CLOSED.compareAndSet(this, 0, 1)) {
        return;
      }
      action = null;
      if (listensToConnection) {
        connection.removeEventListener(this);
      }
      if (probe != null) {
        probe.remove(this);
      }
    }
  }
}
