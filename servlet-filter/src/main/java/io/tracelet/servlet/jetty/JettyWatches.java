package io.tracelet.servlet.jetty;

import io.tracelet.DeadlineClock;
import io.tracelet.servlet.internal.container.DisconnectDetector.Watch;
import jakarta.servlet.http.HttpServletRequest;
import java.util.concurrent.atomic.AtomicIntegerFieldUpdater;
import java.util.concurrent.atomic.AtomicReferenceFieldUpdater;
import java.util.function.Consumer;
import org.eclipse.jetty.io.Connection;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.util.thread.ThreadPool;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Jetty-typed half of {@link JettyDisconnectDetector}, kept apart so that the detector class
 * itself loads even where these Jetty classes are missing.
 */
final class JettyWatches {
  private static final Logger logger = LoggerFactory.getLogger(JettyWatches.class);

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
    // HTTP/1.1 over plain TCP: Jetty does not read while the request is handled; see ReadProbe.
    ReadProbe.Slot slot = ReadProbe.slotOf(connection);
    if (slot != null) {
      return probed(request, slot, onDisconnect, timing);
    }
    // Any other connection (HTTP/2, TLS, a Unix socket): Jetty's own listeners.
    Listening watch = new Listening(onDisconnect, connection);
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
   * A watch under a read probe. A request that may have waited for a thread ({@link ProbeTiming})
   * gets its probe now, which looks at the socket at once, so that a client that left meanwhile is
   * seen before the application starts. Any other gets only a timer entry: nothing is registered
   * with Jetty, and no probe is made, unless the request outlives the arming delay; it learns of
   * the request's end from the watch's close, on this dispatch, or, once {@link Watch#asyncStarted}
   * was called, from the request's stream.
   */
  private static Watch probed(
      Request request, ReadProbe.Slot slot, Runnable onDisconnect, ProbeTiming timing) {
    long now = System.nanoTime();
    long headers = request.getHeadersNanoTime();
    boolean poolShort =
        request.getConnectionMetaData().getConnector().getExecutor() instanceof ThreadPool pool
            && pool.isLowOnThreads();
    // The arming delay; also how long a probe waits to look again at a body still being read.
    long delay = timing.armingDelayNanos();
    if (!timing.mayHaveWaited(now, headers, poolShort)) {
      Probed watch = new Probed(onDisconnect, request, slot, headers + delay, delay);
      watch.defer();
      return watch;
    }
    Probed watch = new Probed(onDisconnect, request, slot, now, delay);
    ReadProbe probe = ReadProbe.forRequest(request, slot, now, delay, true);
    ReadProbe.Added added = probe.add(watch);
    if (added == ReadProbe.Added.ENDED) {
      return Watch.NONE;
    }
    if (added == ReadProbe.Added.WATCHING) {
      watch.attached(probe);
    }
    if (added == ReadProbe.Added.GONE || !slot.isOpen()) {
      // The client left while the request waited for a thread (or the connection is closed
      // already): the action runs here, so that the application starts with the context already
      // cancelled.
      watch.deliver();
    }
    return watch;
  }

  /**
   * One watch: the listeners it registers are this object, so a watch costs one allocation besides
   * Jetty's own registrations (and, under a probe, a timer entry).
   *
   * <p>Those listeners are called on Jetty's threads, often the selector; they only hand the action
   * to the {@link DisconnectNotifier} thread (see there why). The action still runs at most once,
   * and not at all if the watch was closed before the notification thread got to it.
   */
  private abstract static class Watching implements Watch {
    private static final AtomicReferenceFieldUpdater<Watching, Runnable> ACTION =
        AtomicReferenceFieldUpdater.newUpdater(Watching.class, Runnable.class, "action");

    // The disconnect action until it runs or the watch closes, then null.
    volatile Runnable action;

    Watching(Runnable action) {
      this.action = action;
    }

    /** The client is gone (any listener, on Jetty's thread): hands the action over. */
    public final void clientGone() {
      if (action != null) {
        DisconnectNotifier.execute(this::deliver);
      }
    }

    /** Runs the action on this thread, at most once. */
    final void deliver() {
      Runnable once = ACTION.getAndSet(this, null);
      if (once != null) {
        once.run();
      }
    }
  }

  /**
   * A watch through Jetty's listeners (HTTP/2, TLS, any connection without a read probe): the
   * connection's close listener and the request's failure listener are this object.
   */
  private static final class Listening extends Watching
      implements Connection.Listener, Consumer<Throwable> {
    private static final AtomicIntegerFieldUpdater<Listening> CLOSED =
        AtomicIntegerFieldUpdater.newUpdater(Listening.class, "closed");

    private final Connection connection;
    private volatile int closed;
    // Set once registration is complete; a completion before that leaves the closing to watch().
    private volatile boolean registered;
    // Whether this watch is one of the connection's listeners.
    private boolean listensToConnection;

    Listening(Runnable action, Connection connection) {
      super(action);
      this.connection = connection;
    }

    /** The request failed (HTTP/2 reset or close). */
    @Override
    public void accept(Throwable failure) {
      clientGone();
    }

    @Override
    public void onClosed(Connection closedConnection) {
      clientGone();
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
    }
  }

  /**
   * A watch under a read probe (HTTP/1.1 over plain TCP): the probe's listener and the arming
   * timer's task are this object. It becomes a listener of the request's probe, made then if the
   * request has none yet, when the arming delay has passed ({@link #run}, on the timer's thread) or
   * when the request goes asynchronous ({@link #asyncStarted}); a request that may have waited
   * joins its probe at once.
   */
  private static final class Probed extends Watching implements ReadProbe.Listener, Runnable {
    private final Request request;
    private final ReadProbe.Slot slot;
    private final long armAt;
    private final long retryNanos;
    // Guarded by this watch's monitor: closed, the arming timer until it fires, and the probe once
    // this watch is one of its listeners.
    private boolean closed;
    private DeadlineClock.Timer timer;
    private ReadProbe probe;

    Probed(Runnable action, Request request, ReadProbe.Slot slot, long armAt, long retryNanos) {
      super(action);
      this.request = request;
      this.slot = slot;
      this.armAt = armAt;
      this.retryNanos = retryNanos;
    }

    /** Joins the request's probe at {@code armAt}, from the timer's thread ({@link #run}). */
    void defer() {
      synchronized (this) {
        timer = DeadlineClock.system().scheduleAt(this, armAt);
      }
    }

    /** Joined {@code p} already (a request that may have waited). */
    void attached(ReadProbe p) {
      synchronized (this) {
        probe = p;
      }
    }

    /** The arming delay passed (the timer's task, on its thread): the probe starts looking. */
    @Override
    public void run() {
      boolean gone;
      synchronized (this) {
        if (closed || timer == null) {
          return;
        }
        timer = null;
        try {
          gone = attach();
        } catch (RuntimeException | LinkageError e) {
          // As in JettyDisconnectDetector.watch: best effort, and never the timer thread's problem.
          logger.debug("Not watching this request for a client disconnect", e);
          return;
        }
      }
      if (gone) {
        clientGone();
      }
    }

    /**
     * Becomes a listener of the request's probe, made now if it has none. Called with the lock
     * held, so that a close cannot slip in between; returns whether the probe already saw the
     * client gone.
     */
    private boolean attach() {
      ReadProbe p = ReadProbe.forRequest(request, slot, armAt, retryNanos, false);
      ReadProbe.Added added = p.add(this);
      if (added == ReadProbe.Added.WATCHING) {
        probe = p;
      }
      return added == ReadProbe.Added.GONE;
    }

    /**
     * The request went asynchronous; on its dispatch. The probe is made now if the arming delay has
     * not passed yet, so that it can follow the request's stream to its end.
     */
    @Override
    public void asyncStarted() {
      ReadProbe p;
      boolean gone = false;
      synchronized (this) {
        if (closed) {
          return;
        }
        if (timer != null) {
          timer.cancel();
          timer = null;
          gone = attach();
        }
        p = probe;
      }
      if (gone) {
        clientGone();
      }
      if (p != null) {
        p.followStream();
      }
    }

    @Override
    public void close() {
      DeadlineClock.Timer t;
      ReadProbe p;
      synchronized (this) {
        if (closed) {
          return;
        }
        closed = true;
        action = null;
        t = timer;
        timer = null;
        p = probe;
        probe = null;
      }
      if (t != null) {
        t.cancel();
      }
      if (p != null) {
        p.remove(this);
      }
    }
  }
}
