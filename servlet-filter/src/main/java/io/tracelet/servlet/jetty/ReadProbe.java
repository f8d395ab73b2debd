package io.tracelet.servlet.jetty;

import io.tracelet.DeadlineClock;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import java.util.function.Function;
import org.eclipse.jetty.http.HttpGenerator;
import org.eclipse.jetty.http.HttpParser;
import org.eclipse.jetty.http.MetaData;
import org.eclipse.jetty.io.Connection;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.io.SocketChannelEndPoint;
import org.eclipse.jetty.server.HttpStream;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.internal.HttpConnection;
import org.eclipse.jetty.util.Callback;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Notices that the client of an HTTP/1.1 request closed its connection while the request is still
 * being handled, without reading a single byte of the connection's input.
 *
 * <p>Why this is needed: while a synchronous servlet runs, Jetty's {@code HttpConnection} does not
 * read its connection (it reads again only when the response is done), so neither {@link
 * Request#addFailureListener} nor the connection's close listener fires when an HTTP/1.1 client
 * leaves. HTTP/2 does not need this: its session keeps reading frames and fails the stream.
 *
 * <p>How: once the request's body has been taken from the socket completely ({@code
 * bodyReceived()}), Jetty reads nothing from the socket until the response is done, and nobody else
 * is interested in reading it. So we register read interest ({@link EndPoint#tryFillInterested})
 * with a callback that, when the socket becomes readable, asks the kernel how many bytes are
 * waiting ({@code FIONREAD}, which {@link InputStream#available()} of {@link
 * SocketChannel#socket()} performs) instead of reading them. Readable with nothing to read means
 * the peer sent FIN (or RST): the client is gone — once a selector of our own confirms the socket
 * is readable at all, because Jetty's wake-ups can be stale. Readable with bytes waiting means a
 * pipelined request or other early data: we leave them where they are for Jetty and stop probing,
 * because an EOF behind those bytes cannot be seen without reading them. The read interest is
 * withdrawn when the last watch is closed, which for a synchronous request happens on its dispatch,
 * before Jetty completes the stream; an asynchronous request's probe also follows the stream's
 * {@code succeeded}/{@code failed} through a {@link HttpStream.Wrapper} added when the cycle starts
 * ({@link #followStream}). Either way the next request on a keep-alive connection is read by Jetty
 * as usual. Once the whole answer was generated, a close is a keep-alive client closing its
 * connection, not a client that left, and is not reported (the wrapper stops the probe at the last
 * write; an asynchronous request's listeners, where the watch is closed, run after the answer was
 * written, and a client that closed at once after reading it was counted as gone by
 * ContextHygieneLoadTest, at the end of each client's run).
 *
 * <p>When: a request is probed only once it has run for an arming delay (100 ms by default), from
 * tracelet-core's timer thread, so that the many requests that end sooner never register anything
 * with Jetty (no read interest, failure listener or stream wrapper): the watch ({@code
 * JettyWatches}) makes the probe only then, and until then costs one timer entry. A client that
 * leaves earlier is seen when the delay has passed. A request that may have waited for a thread
 * ({@link ProbeTiming}) is instead looked at synchronously when it is watched, and a client that
 * left meanwhile is reported before the application starts.
 *
 * <p>Threads: nothing here needs a pooled thread, because under overload none is free, and the
 * handlers occupying them may be exactly the ones waiting for their client's leaving to be noticed.
 * The callback never blocks and lets Jetty's selector run it (see {@link
 * Interest#getInvocationType}); the listeners hand the notification to the {@link
 * DisconnectNotifier} thread.
 *
 * <p>Rejected alternatives: (1) the naive version, read interest registered and left in place: when
 * the request completes with read interest still registered, Jetty's {@code
 * HttpStreamOverHTTP1.succeeded()} aborts the connection ("Pending read in onCompleted"), and a
 * callback that fills the connection steals the bytes of the next request; (2) reading early bytes
 * and handing them back to Jetty: {@code HttpConnection}'s request buffer is private, may be in use
 * by the application's reading thread, and {@code onUpgradeTo} is not meant to be called on a live
 * connection; (3) wrapping the {@code EndPoint} (or a custom {@code HttpConnectionFactory} whose
 * connection reads into a private buffer) would work but must reimplement every {@code EndPoint}
 * operation, including upgrades to h2c and WebSocket and idle timeouts, and needs to be installed
 * on every connector; (4) {@code EndPoint.isInputShutdown()} only changes after a read returned -1,
 * and {@code onIdleExpired} fires only after the idle timeout; (5) polling the socket on a timer
 * costs work for every running request and still needs a non-consuming check, which the selector
 * already gives us for free. The FIONREAD check is correct only while nobody else reads the socket,
 * which is why the probe is armed only after the body was read completely and is withdrawn before
 * Jetty's own reading resumes.
 *
 * <p>A client that half-closes its side after sending the request is reported as gone, as Go's
 * net/http does. Only plain TCP connections are probed ({@link SocketChannelEndPoint}); behind TLS
 * the readable bytes are TLS records, and only the listeners of {@link JettyWatches} apply.
 */
final class ReadProbe implements Runnable, Function<HttpStream, HttpStream>, Consumer<Throwable> {
  private static final Logger logger = LoggerFactory.getLogger(ReadProbe.class);
  // The connection attribute holding its Slot. A request attribute would do, but setting the first
  // one costs Jetty a map per request; the connection's map and slot are made once per connection.
  private static final String SLOT = ReadProbe.class.getName();

  /**
   * What a connection can be probed with, made on its first watched request: its socket input, and
   * the probe of the request in progress (there is at most one), so that a second watch of the same
   * request shares it.
   */
  static final class Slot {
    // Kept for a connection that cannot be probed (a Unix domain socket), so it is tried once.
    private static final Slot NONE = new Slot(null, null, null);

    private final HttpConnection connection;
    private final SocketChannelEndPoint endPoint;
    // The connection's socket input, for available() only.
    private final InputStream socketInput;
    private volatile ReadProbe current;

    private Slot(
        HttpConnection connection, SocketChannelEndPoint endPoint, InputStream socketInput) {
      this.connection = connection;
      this.endPoint = endPoint;
      this.socketInput = socketInput;
    }

    /** Whether the connection is still open. */
    boolean isOpen() {
      return endPoint.isOpen();
    }
  }

  /** A watch of the request: told once when its client is seen gone. */
  interface Listener {
    /** The client is gone; called at most once, on any thread (often Jetty's selector). */
    void clientGone();
  }

  private final Request request;
  // The request's connection, its end point and socket input; holds this probe while the request
  // is watched, and lets go of it when that ends (see release).
  private final Slot slot;
  // System.nanoTime() from which read interest may be registered (the arming delay).
  private final long armAt;
  // How long to wait before looking again when the body is still being read at arming time.
  private final long retryNanos;
  // The request may have waited for a thread: the first watch looks at the socket at once.
  private final boolean lookFirst;
  // All guarded by this probe's monitor (a lock object of its own would be one more per request;
  // nobody else locks the probe: Jetty and the timer only call it).
  // The watches' listeners: nearly always one, so a field, and a list only for more.
  private Listener listener;
  private List<Listener> moreListeners;
  private Interest interest;
  private boolean ended;
  private boolean bytesWaiting;
  private boolean disconnected;
  private boolean emptyReadable; // readable once with no bytes waiting: an EOF, if it repeats
  private boolean armingDue; // the arming delay has passed
  private boolean looked; // the first watch looked at the socket (see lookFirst)
  private boolean followsStream; // the stream wrapper is in place (asynchronous requests)
  private boolean listensForFailure; // the request's failure listener is registered
  private DeadlineClock.Timer armingTimer;
  private int armings;

  private ReadProbe(Request request, Slot slot, long armAt, long retryNanos, boolean lookFirst) {
    this.request = request;
    this.slot = slot;
    this.armAt = armAt;
    this.retryNanos = retryNanos;
    this.lookFirst = lookFirst;
  }

  /** What {@link #add} did with a listener. */
  enum Added {
    /** Kept: {@link #remove} it when its watch closes. */
    WATCHING,
    /**
     * The client turned out to be gone already; the listener was not kept and not run, so that the
     * caller runs it on its own thread before the application starts.
     */
    GONE,
    /** The request is already complete: nothing to watch. */
    ENDED
  }

  /**
   * The slot of {@code connection}, made on its first call; {@code null} when the connection is not
   * HTTP/1.1 over plain TCP, and cannot be probed.
   */
  static Slot slotOf(Connection connection) {
    if (!(connection instanceof HttpConnection http)
        || !(http.getEndPoint() instanceof SocketChannelEndPoint endPoint)) {
      return null;
    }
    Object attribute = http.getAttribute(SLOT);
    if (attribute instanceof Slot slot) {
      return slot == Slot.NONE ? null : slot;
    }
    Slot slot;
    try {
      // Unix domain channels have no Socket; the stream is only used for available(), never read
      // from and never closed (closing it would close the connection). Each call makes a new one,
      // so it is kept with the connection.
      slot = new Slot(http, endPoint, endPoint.getChannel().socket().getInputStream());
    } catch (IOException | UnsupportedOperationException e) {
      slot = Slot.NONE;
    }
    http.setAttribute(SLOT, slot);
    return slot == Slot.NONE ? null : slot;
  }

  /**
   * The probe of {@code request} on its connection's {@code slot}, created on the first call (the
   * timing arguments apply then): read interest may be registered from {@code armAt} (a {@link
   * System#nanoTime()}); a body still being read then is looked at again {@code retryNanos} later;
   * with {@code lookFirst} the first watch looks at the socket at once. Add a listener with {@link
   * #add}.
   */
  static ReadProbe forRequest(
      Request request, Slot slot, long armAt, long retryNanos, boolean lookFirst) {
    // Locked: two watches of one request may reach here from the request's thread and the timer's.
    synchronized (slot) {
      ReadProbe existing = slot.current;
      if (existing != null && existing.request == request) {
        return existing;
      }
      ReadProbe probe = new ReadProbe(request, slot, armAt, retryNanos, lookFirst);
      slot.current = probe;
      return probe;
    }
  }

  /** The probe of {@code request} while a watch of it is open, if one was made; for tests. */
  static ReadProbe of(Request request) {
    if (request.getConnectionMetaData().getConnection() instanceof HttpConnection connection
        && connection.getAttribute(SLOT) instanceof Slot slot) {
      ReadProbe probe = slot.current;
      return probe != null && probe.request == request ? probe : null;
    }
    return null;
  }

  /** The number of open watches; 0 once the request completed. */
  int watchCount() {
    synchronized (this) {
      return (listener == null ? 0 : 1) + (moreListeners == null ? 0 : moreListeners.size());
    }
  }

  /** Whether our read interest is registered on the end point; never once the request completed. */
  boolean isReadInterested() {
    synchronized (this) {
      return interest != null;
    }
  }

  /** Whether the arming delay has passed (or was skipped); for tests. */
  boolean isArmingDue() {
    synchronized (this) {
      return armingDue;
    }
  }

  /**
   * Whether the probe registered anything with Jetty's request besides read interest (its failure
   * listener, its stream wrapper); for tests.
   */
  boolean registeredWithRequest() {
    synchronized (this) {
      return followsStream || listensForFailure;
    }
  }

  /** How many times read interest was registered; for tests. */
  int armings() {
    synchronized (this) {
      return armings;
    }
  }

  /**
   * The request went asynchronous: from now on the probe learns of the request's end from its
   * stream, through a wrapper ({@link #apply}). Call it on the request's dispatch, which Jetty does
   * not complete before it returns: a wrapper added from another thread once Jetty took the stream
   * to complete it would never be called (HttpChannelState reads the stream under its lock, then
   * calls it), so read interest could outlive the request, and Jetty would abort the keep-alive
   * connection ("Pending read in onCompleted"). A synchronous request needs no wrapper: its watch
   * is closed on its dispatch, before Jetty completes the stream.
   */
  void followStream() {
    synchronized (this) {
      if (followsStream || ended) {
        return;
      }
      followsStream = true;
    }
    try {
      request.addHttpStreamWrapper(this);
    } catch (IllegalStateException noActiveStream) {
      end();
    }
  }

  /** Wraps the request's stream (the probe is the wrapping function: one object less). */
  @Override
  public HttpStream apply(HttpStream stream) {
    return new HttpStream.Wrapper(stream) {
      @Override
      public Content.Chunk read() {
        Content.Chunk chunk = super.read();
        // The application just read (part of) the body; if that was all of it, Jetty will not
        // read the socket again until the response is done, and probing becomes safe.
        arm();
        return chunk;
      }

      @Override
      public void send(
          MetaData.Request request,
          MetaData.Response response,
          boolean last,
          ByteBuffer content,
          Callback callback) {
        if (last) {
          // The whole answer is on its way: the client has all it asked for, and a close from now
          // on is a keep-alive client closing its connection (seen after asynchronous requests,
          // whose listeners run after the answer was written), not a client that left.
          end();
        }
        super.send(request, response, last, content, callback);
      }

      @Override
      public void succeeded() {
        end();
        super.succeeded();
      }

      @Override
      public void failed(Throwable x) {
        end();
        super.failed(x);
      }
    };
  }

  /**
   * Adds {@code onEof}, run once when the client is seen gone. A request that may have waited for a
   * thread has its socket looked at right away on the first call, so that a client that left
   * meanwhile is seen before the application starts; any other is probed once it has run for the
   * arming delay ({@link ProbeTiming}).
   */
  Added add(Listener onEof) {
    boolean lookNow = false;
    if (lookFirst) {
      synchronized (this) {
        lookNow = !looked;
        looked = true;
      }
    }
    if (lookNow && clientGoneNow()) {
      synchronized (this) {
        disconnected = true;
      }
      return Added.GONE;
    }
    synchronized (this) {
      if (ended) {
        return Added.ENDED;
      }
      if (disconnected) {
        return Added.GONE;
      }
      if (listener == null) {
        listener = onEof;
      } else {
        if (moreListeners == null) {
          moreListeners = new ArrayList<>(2);
        }
        moreListeners.add(onEof);
      }
      scheduleArming();
    }
    arm();
    return Added.WATCHING;
  }

  private boolean hasListeners() {
    return listener != null || (moreListeners != null && !moreListeners.isEmpty());
  }

  /**
   * Lets {@link #arm} register read interest once the request has run for the arming delay: at once
   * if it has, else from tracelet-core's timer thread, whose heap wakes the thread only for a new
   * earliest entry, so a timer per request costs no wake-up. Called with the lock held.
   *
   * <p>Until then nothing is registered with Jetty: no read interest, no failure listener, no
   * stream wrapper (see {@link #followStream}). {@code tryFillInterested} and {@code
   * addFailureListener} are safe from any thread (a CAS, then a selector update that Jetty
   * documents as callable from any thread; a field set under the channel's lock), and {@link #arm}
   * checks under our lock that a watch is still open and the stream did not end; the last watch
   * closes, or {@link #end} marks the end, under the same lock before Jetty continues with the
   * connection.
   */
  private void scheduleArming() {
    if (armingDue || armingTimer != null) {
      return;
    }
    long wait = armAt - System.nanoTime();
    if (wait <= 0) {
      armingDue = true;
    } else {
      armingTimer = DeadlineClock.system().schedule(this, wait);
    }
  }

  /**
   * The arming delay passed: the timer's task (the probe itself, one object less per request), on
   * the shared timer thread, so it only registers read interest.
   */
  @Override
  public void run() {
    synchronized (this) {
      armingTimer = null;
      armingDue = true;
    }
    arm();
  }

  /** Called with the lock held. */
  private void cancelArming() {
    if (armingTimer != null) {
      armingTimer.cancel();
      armingTimer = null;
    }
  }

  /**
   * Looks at the socket once, on the calling thread: whether the client has closed it already. As
   * in the callback, only once the whole request was read (always, for a GET): FIONREAD, and when
   * nothing waits, a selector of our own. Opening one costs too much for every request, so only
   * requests that may have waited pay for it.
   */
  private boolean clientGoneNow() {
    if (!bodyReceived()) {
      return false;
    }
    int waiting = available();
    if (waiting == 0) {
      if (!readableNow(false)) {
        return false;
      }
      // Bytes may have arrived between the two looks.
      waiting = available();
    }
    if (waiting > 0) {
      // Early bytes of a next request: a close behind them cannot be seen (see onReadable).
      synchronized (this) {
        bytesWaiting = true;
      }
      return false;
    }
    return true;
  }

  /** Removes the listener of a watch that closed; the last one withdraws the probe. */
  void remove(Listener onEof) {
    synchronized (this) {
      if (listener == onEof) {
        listener = null;
        if (moreListeners != null && !moreListeners.isEmpty()) {
          listener = moreListeners.remove(0);
        }
      } else if (moreListeners != null) {
        // Not found: the probe already let its listeners go (the client was seen gone).
        moreListeners.remove(onEof);
      }
      if (hasListeners()) {
        return;
      }
      withdraw();
      cancelArming();
    }
    release();
  }

  /**
   * Nobody watches this request any more: the connection's slot lets go of the probe, and so of the
   * request, which would otherwise stay reachable from a keep-alive connection until a later
   * request of it is probed. A watch made later for the same request gets a probe of its own.
   */
  private void release() {
    synchronized (slot) {
      if (slot.current == this) {
        slot.current = null;
      }
    }
  }

  /**
   * The probe's work is over for this request: the last bytes of the answer were handed to Jetty,
   * or the stream ended. Always before Jetty reads the connection again.
   */
  private void end() {
    synchronized (this) {
      ended = true;
      listener = null;
      moreListeners = null;
      withdraw();
      cancelArming();
    }
    release();
  }

  private void arm() {
    boolean addFailureListener;
    synchronized (this) {
      if (ended
          || !armingDue
          || disconnected
          || bytesWaiting
          || interest != null
          || !hasListeners()
          || !slot.endPoint.isOpen()) {
        return;
      }
      if (!bodyReceived()) {
        // Jetty may still read the body for the application; look again later (an asynchronous
        // request's stream wrapper also looks after each read).
        if (armingTimer == null) {
          armingTimer = DeadlineClock.system().schedule(this, retryNanos);
        }
        return;
      }
      Interest candidate = new Interest();
      interest = candidate;
      armings++;
      // A failure to register calls candidate.failed() on this thread; the lock is reentrant, and
      // the listeners it may run only hand the notification over.
      if (!slot.endPoint.tryFillInterested(candidate) && interest == candidate) {
        // Someone else is reading after all (not expected once the body is complete): stay out.
        interest = null;
      }
      addFailureListener = !listensForFailure;
      listensForFailure = true;
    }
    if (addFailureListener) {
      // Outside our lock, which Jetty's channel lock must not nest in. Jetty fails the request when
      // the connection fails or times out under it; a failure listener cannot be removed, and does
      // nothing once the probe ended.
      try {
        request.addFailureListener(this);
      } catch (IllegalStateException completed) {
        // The request completed meanwhile: nothing left to watch.
      }
    }
  }

  /** The request failed (its connection failed or timed out under it). */
  @Override
  public void accept(Throwable failure) {
    disconnected();
  }

  /**
   * Whether the whole request has been taken from the socket, so that Jetty will not read it again
   * before the response is done: the parser reached the end of the message, or (an application that
   * read exactly Content-Length bytes and stopped) all declared bytes were parsed, in which case
   * Jetty completes the message from what it has without filling. A chunked body counts only once
   * its last chunk was parsed.
   */
  private boolean bodyReceived() {
    HttpParser parser = slot.connection.getParser();
    return parser.isComplete()
        || (parser.inContentState()
            && parser.getContentLength() >= 0
            && parser.getContentRead() >= parser.getContentLength());
  }

  /** Removes our read interest from the end point. Called with the lock held. */
  private void withdraw() {
    Interest current = interest;
    if (current == null) {
      return;
    }
    interest = null;
    // FillInterest has no "unregister"; failing it removes whatever callback is registered. While
    // we hold the lock that can only be ours (or nothing, if it has just fired): Jetty registers
    // read interest only before the body is complete or after the stream completed, and end()
    // runs before the stream completes. current.failed() sees interest != current and returns.
    slot.endPoint.getFillInterest().onFail(WITHDRAWN);
  }

  /**
   * The failure handed to our own read interest when we withdraw it. Nobody logs or throws it (our
   * callback ignores a failure once the interest is no longer current), so one shared instance
   * without a stack trace does: filling in a stack trace for every withdrawal cost about 1.7 µs and
   * a few hundred bytes per probed request in the end-to-end profile.
   */
  private static final CancellationException WITHDRAWN =
      new CancellationException("disconnect probe removed") {
        private static final long serialVersionUID = 1L;

        @Override
        public synchronized Throwable fillInStackTrace() {
          return this;
        }
      };

  private void onReadable(Interest fired) {
    synchronized (this) {
      if (interest != fired) {
        return;
      }
      interest = null;
    }
    int waiting = available();
    if (waiting == 0 && !readableNow(true)) {
      // A stale wake-up: under load Jetty calls read interest on live keep-alive connections that
      // are not readable at all (ContextHygieneLoadTest saw ~5% of requests; most likely a fill
      // task queued for an earlier interest, which calls whatever callback is registered when it
      // runs). Not a close: listen again, and start the two-in-a-row count over.
      synchronized (this) {
        emptyReadable = false;
      }
      arm();
      return;
    }
    if (waiting == 0) {
      waiting = available();
    }
    if (waiting > 0) {
      synchronized (this) {
        bytesWaiting = true;
      }
      return;
    }
    boolean confirmed;
    synchronized (this) {
      confirmed = emptyReadable;
      emptyReadable = true;
    }
    if (confirmed) {
      disconnected();
    } else {
      // Readable with nothing to read is how an EOF looks, but under load the selector also
      // reports a connection readable once with nothing there (seen with 16 concurrent keep-alive
      // clients: requests were cancelled as "client disconnected" while the client still waited).
      // An EOF stays readable, so ask again: a real one fires at once a second time.
      arm();
    }
  }

  /**
   * Whether Jetty has generated the whole answer: its generator was handed the last content
   * (COMPLETING, until the write of it returns) or is done with it (END). The generator's state is
   * the request thread's, read here without its lock: a stale answer is an earlier state, so at
   * worst a client that closed just after the last bytes is reported as gone, as it would have been
   * a moment before.
   */
  private boolean answerComplete() {
    HttpGenerator generator = slot.connection.getGenerator();
    return generator.isState(HttpGenerator.State.COMPLETING) || generator.isEnd();
  }

  private int available() {
    try {
      return slot.socketInput.available();
    } catch (IOException e) {
      // The socket is closed or broken: the client is gone either way.
      return 0;
    }
  }

  /**
   * Whether the socket is readable right now, asked of a selector of our own (a channel may be
   * registered with several), so that no stale readiness of Jetty's selector can answer. Readable
   * with nothing waiting is an EOF; not readable is no news. {@code ifUnknown} is the answer when
   * the channel cannot be asked.
   */
  private boolean readableNow(boolean ifUnknown) {
    try (Selector selector = Selector.open()) {
      SelectionKey key = slot.endPoint.getChannel().register(selector, SelectionKey.OP_READ);
      return selector.selectNow() > 0 && key.isReadable();
    } catch (ClosedChannelException e) {
      return true;
    } catch (IOException | RuntimeException e) {
      // Cannot tell (the channel is in an unexpected mode): the callback believes its wake-up; a
      // look without one finds nothing.
      logger.debug("Could not check the connection's readiness", e);
      return ifUnknown;
    }
  }

  private void onFailed(Interest failed, Throwable cause) {
    synchronized (this) {
      if (interest != failed) {
        return;
      }
      interest = null;
    }
    if (cause instanceof TimeoutException) {
      // Jetty fails read interest with an idle timeout only when no request is being handled;
      // without our interest it would have closed the end point, so do that for it.
      slot.endPoint.close(cause);
    }
    disconnected();
  }

  private void disconnected() {
    if (answerComplete()) {
      // The client has the whole answer (a synchronous servlet that answered, then works on): a
      // close now is a keep-alive client closing its connection, not a client that left. An
      // asynchronous request's stream wrapper ends the probe at the last write already.
      end();
      return;
    }
    List<Listener> toRun;
    synchronized (this) {
      if (ended || disconnected) {
        return;
      }
      disconnected = true;
      toRun = new ArrayList<>(2);
      if (listener != null) {
        toRun.add(listener);
      }
      if (moreListeners != null) {
        toRun.addAll(moreListeners);
      }
      listener = null;
      moreListeners = null;
      cancelArming();
    }
    // Often on Jetty's selector thread: the listeners only hand the notification over (see
    // JettyWatches.Watching), so they run here, without a pooled thread.
    for (Listener listener : toRun) {
      try {
        listener.clientGone();
      } catch (RuntimeException e) {
        logger.debug("A disconnect listener failed", e);
      }
    }
  }

  /** The read interest registered on the end point; one per arming. */
  private final class Interest implements Callback {
    @Override
    public void succeeded() {
      onReadable(this);
    }

    @Override
    public void failed(Throwable x) {
      onFailed(this, x);
    }

    /**
     * Either: the callback never blocks, so when no pooled thread is ready Jetty's selector runs it
     * itself instead of queueing it behind the handlers, which under overload are the very requests
     * whose clients left (issue 14). Nothing on the path blocks: {@code available()} is one {@code
     * ioctl}, the own-selector check (only when nothing is waiting) a {@code selectNow}, re-arming
     * a {@code tryFillInterested}, the lock is held only for field updates, and the listeners hand
     * the notification to the {@link DisconnectNotifier} thread.
     *
     * <p>Why not {@code NON_BLOCKING}, which would always run it on the selector: Jetty reads the
     * invocation type when it selects the key and calls whichever callback is registered a moment
     * later. Our interest is withdrawn just before Jetty's own reading resumes, and Jetty's {@code
     * HttpConnection} may then register its blocking callback, which would run where ours was meant
     * to. With {@code EITHER}, a selector that has a reserved thread hands its selecting to it and
     * runs the callback as an ordinary pooled thread, so a swapped callback is harmless; only with
     * no thread to spare is it run on the selector. Even then the swap needs the selector to stall
     * between two adjacent statements while the request ends, with the client's next request
     * already sent behind this one (pipelined: we withdraw before the last bytes of the answer go
     * out, so a client that waits for the answer cannot send it in time). The blocking alternative,
     * a pooled thread for every look at the socket, fails whenever the pool is full.
     */
    @Override
    public InvocationType getInvocationType() {
      return InvocationType.EITHER;
    }
  }
}
