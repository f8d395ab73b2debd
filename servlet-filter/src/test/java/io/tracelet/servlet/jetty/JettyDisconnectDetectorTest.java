package io.tracelet.servlet.jetty;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static java.util.concurrent.TimeUnit.MILLISECONDS;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;

import io.tracelet.SdkProbes;
import io.tracelet.servlet.internal.container.DisconnectDetector;
import io.tracelet.servlet.internal.container.DisconnectDetector.Watch;
import jakarta.servlet.AsyncContext;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletRequestWrapper;
import jakarta.servlet.http.HttpServletResponse;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.reflect.Proxy;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import org.eclipse.jetty.ee10.servlet.ServletContextHandler;
import org.eclipse.jetty.ee10.servlet.ServletHolder;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.http.HttpURI;
import org.eclipse.jetty.http.HttpVersion;
import org.eclipse.jetty.http.MetaData;
import org.eclipse.jetty.http2.ErrorCode;
import org.eclipse.jetty.http2.HTTP2Session;
import org.eclipse.jetty.http2.api.Session;
import org.eclipse.jetty.http2.api.Stream;
import org.eclipse.jetty.http2.client.HTTP2Client;
import org.eclipse.jetty.http2.frames.HeadersFrame;
import org.eclipse.jetty.http2.frames.ResetFrame;
import org.eclipse.jetty.http2.server.HTTP2CServerConnectionFactory;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.Callback;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The Jetty disconnect detector in a real Jetty 12 with HTTP/1.1 and h2c on one connector, with a
 * synchronous servlet that watches its request and then works until the test releases it.
 */
class JettyDisconnectDetectorTest {
  private static final Duration DETECTION_BOUND = Duration.ofSeconds(1);

  private final DisconnectDetector detector = new JettyDisconnectDetector();
  // Takes every request for one that may have waited for a thread: looks at the socket at once.
  private final DisconnectDetector lateDetector =
      new JettyDisconnectDetector(JettyDisconnectDetector.ARMING_DELAY, Duration.ZERO);
  // Probes no request before an hour has passed.
  private final DisconnectDetector patientDetector =
      new JettyDisconnectDetector(Duration.ofHours(1), JettyDisconnectDetector.LATE_AFTER);
  private final CountDownLatch entered = new CountDownLatch(1);
  private final CountDownLatch clientLeft = new CountDownLatch(1);
  private final CountDownLatch answerNow = new CountDownLatch(1);
  private final AtomicBoolean firedBeforeWatchReturned = new AtomicBoolean();
  private final CountDownLatch started = new CountDownLatch(1);
  private final CountDownLatch release = new CountDownLatch(1);
  private final CountDownLatch disconnected = new CountDownLatch(1);
  private final AtomicInteger disconnects = new AtomicInteger();
  private final AtomicLong disconnectedAt = new AtomicLong();
  private final AtomicBoolean firedWhileWorking = new AtomicBoolean();
  // The core request the servlet watched last; its probe, if it has one, is probe().
  private final AtomicReference<Request> watchedCore = new AtomicReference<>();
  private final AtomicReference<String> servletFailure = new AtomicReference<>();

  private Server server;
  private int port;
  private ServerConnector connector;
  private HTTP2Client http2Client;

  @BeforeEach
  void startJetty() throws Exception {
    server = new Server();
    HttpConfiguration config = new HttpConfiguration();
    connector =
        new ServerConnector(
            server, new HttpConnectionFactory(config), new HTTP2CServerConnectionFactory(config));
    connector.setHost("127.0.0.1");
    connector.setPort(0);
    server.addConnector(connector);
    ServletContextHandler context = new ServletContextHandler();
    ServletHolder holder = new ServletHolder(new WatchingServlet());
    holder.setAsyncSupported(true);
    context.addServlet(holder, "/work");
    server.setHandler(context);
    server.start();
    port = connector.getLocalPort();
  }

  @AfterEach
  void stopJetty() throws Exception {
    release.countDown();
    if (http2Client != null) {
      http2Client.stop();
    }
    server.stop();
    assertThat(servletFailure.get()).isNull();
  }

  @Test
  void http1ClientCloses_watchFiresWithinOneSecond() throws Exception {
    try (Socket socket = connect()) {
      send(socket, get("/work?wait=1"));
      assertThat(started.await(5, SECONDS)).isTrue();
      awaitArmed();
      long closedAt = System.nanoTime();
      socket.close();

      assertDisconnectedWithinBound(closedAt, "HTTP/1.1");
    }
  }

  @Test
  void http1ClientClosesBeforeTheProbeIsArmed_watchFiresWithinOneSecond() throws Exception {
    try (Socket socket = connect()) {
      send(socket, get("/work?wait=1"));
      assertThat(started.await(5, SECONDS)).isTrue();
      long closedAt = System.nanoTime();
      socket.close();

      // Seen once the arming delay has passed, when the probe is made.
      awaitArmingDue();
      ReadProbe armed = probe();
      assertDisconnectedWithinBound(closedAt, "HTTP/1.1 before the arming delay");
      assertThat(armed.armings()).isPositive();
    }
  }

  @Test
  void requestEndingWithinTheArmingDelay_neverTouchesTheSelector() throws Exception {
    int timersBefore = SdkProbes.pendingDeadlineTimers();
    try (Socket socket = connect()) {
      send(socket, get("/work?detector=patient&wait=1&id=1"));
      assertThat(started.await(5, SECONDS)).isTrue();
      // Nothing made and nothing registered with Jetty but the arming timer.
      assertThat(probe()).isNull();
      Request first = watchedCore.get();
      release.countDown();
      assertThat(readResponse(socket)).isEqualTo("id=1 body=");

      send(socket, get("/work?detector=patient&id=2"));
      assertThat(readResponse(socket)).isEqualTo("id=2 body=");
      assertThat(ReadProbe.of(first)).isNull();
      assertThat(probe()).isNull();
    }
    // The arming timers went with their requests.
    assertThat(SdkProbes.pendingDeadlineTimers()).isEqualTo(timersBefore);
    assertThat(disconnects).hasValue(0);
  }

  @Test
  void http1ClientHalfCloses_isReportedAsGone() throws Exception {
    try (Socket socket = connect()) {
      send(socket, get("/work?wait=1"));
      assertThat(started.await(5, SECONDS)).isTrue();
      long closedAt = System.nanoTime();
      socket.shutdownOutput();

      assertDisconnectedWithinBound(closedAt, "HTTP/1.1 half-close");
    }
  }

  @Test
  void h2cClientConnectionDrops_watchFiresWithinOneSecond() throws Exception {
    Session session = h2cSession();
    session.newStream(h2cGet("/work?wait=1&wrap=1"), new Stream.Listener() {}).get(5, SECONDS);
    assertThat(started.await(5, SECONDS)).isTrue();
    long closedAt = System.nanoTime();
    ((HTTP2Session) session).getEndPoint().close();

    assertDisconnectedWithinBound(closedAt, "h2c");
  }

  @Test
  void h2cClientResetsStream_watchFires() throws Exception {
    Session session = h2cSession();
    Stream stream =
        session.newStream(h2cGet("/work?wait=1"), new Stream.Listener() {}).get(5, SECONDS);
    assertThat(started.await(5, SECONDS)).isTrue();
    long resetAt = System.nanoTime();
    stream.reset(new ResetFrame(stream.getId(), ErrorCode.CANCEL_STREAM_ERROR.code), Callback.NOOP);

    assertDisconnectedWithinBound(resetAt, "h2c stream reset");
  }

  @Test
  void keepAlive_secondRequestOnTheSameConnectionIsAnswered() throws Exception {
    try (Socket socket = connect()) {
      send(socket, get("/work?wait=1&id=1"));
      assertThat(started.await(5, SECONDS)).isTrue();
      awaitArmed();
      ReadProbe first = probe();
      Request firstRequest = watchedCore.get();
      release.countDown();
      assertThat(readResponse(socket)).isEqualTo("id=1 body=");

      send(socket, get("/work?id=2"));
      assertThat(readResponse(socket)).isEqualTo("id=2 body=");

      assertNothingRegistered(first);
      // The connection no longer holds the finished request.
      assertThat(ReadProbe.of(firstRequest)).isNull();
    }
    assertThat(disconnects).hasValue(0);
  }

  @Test
  void clientClosingAfterTheWholeAnswer_isNotReportedAsGone() throws Exception {
    ReadProbe armed;
    try (Socket socket = connect()) {
      send(socket, get("/work?wait=1&answer=early&id=1"));
      assertThat(started.await(5, SECONDS)).isTrue();
      awaitArmed();
      armed = probe();
      answerNow.countDown();
      assertThat(readResponse(socket)).isEqualTo("id=1 body=");
    }
    // The servlet still works, but its client has all it asked for: like a keep-alive client that
    // closes its idle connection, or an asynchronous request whose listeners still run after the
    // answer went out, this is not a client that left. The probe sees the close and ends quietly.
    // The probe withdraws its read interest first and lets go of the watch just after, outside
    // its lock: wait for both.
    long deadline = System.nanoTime() + SECONDS.toNanos(5);
    while (armed.isReadInterested() || armed.watchCount() != 0) {
      assertThat(System.nanoTime()).as("the close seen within 5 s").isLessThan(deadline);
      LockSupport.parkNanos(MILLISECONDS.toNanos(1));
    }
    release.countDown();
    awaitNoConnection();
    assertThat(disconnects).hasValue(0);
  }

  @Test
  void pipelinedRequestsWrittenAtOnce_areAnsweredInOrder() throws Exception {
    try (Socket socket = connect()) {
      send(socket, get("/work?wait=1&id=1") + get("/work?id=2") + get("/work?id=3"));
      assertThat(started.await(5, SECONDS)).isTrue();
      release.countDown();

      assertThat(readResponse(socket)).isEqualTo("id=1 body=");
      assertThat(readResponse(socket)).isEqualTo("id=2 body=");
      assertThat(readResponse(socket)).isEqualTo("id=3 body=");
    }
    assertThat(disconnects).hasValue(0);
  }

  @Test
  void pipelinedRequestArrivingWhileServletWorks_isLeftForJetty() throws Exception {
    try (Socket socket = connect()) {
      send(socket, get("/work?wait=1&id=1"));
      assertThat(started.await(5, SECONDS)).isTrue();
      awaitArmed();
      send(socket, get("/work?id=2"));
      release.countDown();

      assertThat(readResponse(socket)).isEqualTo("id=1 body=");
      assertThat(readResponse(socket)).isEqualTo("id=2 body=");
      send(socket, get("/work?id=3"));
      assertThat(readResponse(socket)).isEqualTo("id=3 body=");
    }
    assertThat(disconnects).hasValue(0);
  }

  @Test
  void bodyReadAfterTheServletWaited_arrivesIntact() throws Exception {
    String body = "x".repeat(100_000) + "-end";
    try (Socket socket = connect()) {
      send(socket, post("/work?wait=1&read=after&id=1", body.length()));
      assertThat(started.await(5, SECONDS)).isTrue();
      // The body arrives while the servlet works and has not read it; the probe must stay out.
      awaitArmingDue();
      assertThat(probe().isReadInterested()).isFalse();
      send(socket, body);
      release.countDown();

      assertThat(readResponse(socket)).isEqualTo("id=1 body=" + body);
      send(socket, get("/work?id=2"));
      assertThat(readResponse(socket)).isEqualTo("id=2 body=");
    }
    assertThat(disconnects).hasValue(0);
  }

  @Test
  void bodyReadThenClientCloses_watchFiresWithinOneSecond() throws Exception {
    try (Socket socket = connect()) {
      send(socket, post("/work?wait=1&read=before", 5) + "hello");
      assertThat(started.await(5, SECONDS)).isTrue();
      awaitArmed();
      long closedAt = System.nanoTime();
      socket.close();

      assertDisconnectedWithinBound(closedAt, "HTTP/1.1 after the body");
    }
  }

  @Test
  void bodyReadToItsLengthButNotToItsEnd_thenClientCloses_watchFires() throws Exception {
    try (Socket socket = connect()) {
      send(socket, post("/work?wait=1&read=exact", 5) + "hello");
      assertThat(started.await(5, SECONDS)).isTrue();
      awaitArmed();
      long closedAt = System.nanoTime();
      socket.close();

      assertDisconnectedWithinBound(closedAt, "HTTP/1.1 after Content-Length bytes");
    }
  }

  @Test
  void bodyReadToItsLength_nextRequestOnTheConnectionIsAnswered() throws Exception {
    try (Socket socket = connect()) {
      send(socket, post("/work?wait=1&read=exact&id=1", 5) + "hello" + get("/work?id=2"));
      assertThat(started.await(5, SECONDS)).isTrue();
      release.countDown();

      assertThat(readResponse(socket)).isEqualTo("id=1 body=hello");
      assertThat(readResponse(socket)).isEqualTo("id=2 body=");
      send(socket, post("/work?read=exact&id=3", 3) + "abc");
      assertThat(readResponse(socket)).isEqualTo("id=3 body=abc");
    }
    assertThat(disconnects).hasValue(0);
  }

  @Test
  void lateRequestWhoseClientAlreadyLeft_firesBeforeWatchReturns() throws Exception {
    try (Socket socket = connect()) {
      send(socket, get("/work?detector=late&leave=1"));
      assertThat(entered.await(5, SECONDS)).isTrue();
    }
    clientLeft.countDown();

    assertThat(started.await(5, SECONDS)).isTrue();
    assertThat(firedBeforeWatchReturned)
        .as("fired on the request's thread, inside watch()")
        .isTrue();
    assertThat(disconnects).hasValue(1);
  }

  @Test
  void lateRequestWhoseClientWaits_isAnsweredAndLeavingIsStillSeen() throws Exception {
    try (Socket socket = connect()) {
      send(socket, get("/work?detector=late&wait=1"));
      assertThat(started.await(5, SECONDS)).isTrue();
      assertThat(disconnects).hasValue(0);
      assertThat(probe().isReadInterested()).isTrue();
      long closedAt = System.nanoTime();
      socket.close();

      assertDisconnectedWithinBound(closedAt, "HTTP/1.1 late request");
    }
  }

  @Test
  void latePipelinedRequests_areAnsweredInOrderAndNoneIsReportedGone() throws Exception {
    try (Socket socket = connect()) {
      send(
          socket,
          get("/work?detector=late&id=1")
              + get("/work?detector=late&id=2")
              + get("/work?detector=late&id=3"));

      assertThat(readResponse(socket)).isEqualTo("id=1 body=");
      assertThat(readResponse(socket)).isEqualTo("id=2 body=");
      assertThat(readResponse(socket)).isEqualTo("id=3 body=");
      send(socket, get("/work?detector=late&id=4"));
      assertThat(readResponse(socket)).isEqualTo("id=4 body=");
    }
    assertThat(disconnects).hasValue(0);
  }

  @Test
  void twoWatchesOnOneRequest_closingOneKeepsTheOther() throws Exception {
    try (Socket socket = connect()) {
      send(socket, get("/work?wait=1&second=1"));
      assertThat(started.await(5, SECONDS)).isTrue();
      awaitArmed();
      // The watch closed before the arming delay never joined the probe.
      assertThat(probe().watchCount()).isEqualTo(1);
      long closedAt = System.nanoTime();
      socket.close();

      assertDisconnectedWithinBound(closedAt, "HTTP/1.1 second watch");
    }
  }

  @Test
  void asynchronousRequest_watchLeftOpen_isRemovedWhenTheStreamCompletes() throws Exception {
    try (Socket socket = connect()) {
      send(socket, get("/work?async=1&id=1"));
      assertThat(started.await(5, SECONDS)).isTrue();
      awaitArmed();
      ReadProbe first = probe();
      release.countDown();
      assertThat(readResponse(socket)).isEqualTo("id=1 body=");

      send(socket, get("/work?id=2"));
      assertThat(readResponse(socket)).isEqualTo("id=2 body=");
      assertThat(first.registeredWithRequest()).isTrue();
      assertNothingRegistered(first);
      socket.close();
    }
    awaitNoConnection();
    // The connection closed after the request completed: the forgotten watch must not fire.
    assertThat(disconnects).hasValue(0);
  }

  /** The probe of the request the servlet watched last, or null if it has none (yet). */
  private ReadProbe probe() {
    Request request = watchedCore.get();
    return request == null ? null : ReadProbe.of(request);
  }

  /** Waits until the arming delay has passed and the probe registered its read interest. */
  private void awaitArmed() {
    long deadline = System.nanoTime() + SECONDS.toNanos(5);
    while (probe() == null || !probe().isReadInterested()) {
      assertThat(System.nanoTime()).as("read interest registered within 5 s").isLessThan(deadline);
      LockSupport.parkNanos(MILLISECONDS.toNanos(1));
    }
  }

  /** Waits until the arming delay has passed. */
  private void awaitArmingDue() {
    long deadline = System.nanoTime() + SECONDS.toNanos(5);
    while (probe() == null || !probe().isArmingDue()) {
      assertThat(System.nanoTime()).as("arming delay passed within 5 s").isLessThan(deadline);
      LockSupport.parkNanos(MILLISECONDS.toNanos(1));
    }
  }

  /** Waits until Jetty has closed every connection, and so has run their close listeners. */
  private void awaitNoConnection() {
    long deadline = System.nanoTime() + SECONDS.toNanos(5);
    while (!connector.getConnectedEndPoints().isEmpty()) {
      assertThat(System.nanoTime()).as("connections closed within 5 s").isLessThan(deadline);
      LockSupport.parkNanos(MILLISECONDS.toNanos(1));
    }
  }

  @Test
  void requestThatIsNotJettys_givesAWatchThatNeverFires() {
    HttpServletRequest foreign =
        (HttpServletRequest)
            Proxy.newProxyInstance(
                getClass().getClassLoader(),
                new Class<?>[] {HttpServletRequest.class},
                (proxy, method, args) -> null);
    AtomicInteger calls = new AtomicInteger();

    Watch watch = detector.watch(new HttpServletRequestWrapper(foreign), calls::incrementAndGet);
    watch.close();
    watch.close();

    assertThat(watch).isSameAs(Watch.NONE);
    assertThat(calls).hasValue(0);
  }

  private void assertDisconnectedWithinBound(long closedAt, String what)
      throws InterruptedException {
    assertThat(disconnected.await(DETECTION_BOUND.toMillis(), MILLISECONDS))
        .as("%s disconnect seen within %s", what, DETECTION_BOUND)
        .isTrue();
    long micros = (disconnectedAt.get() - closedAt) / 1_000;
    System.out.printf(Locale.ROOT, "[disconnect-latency] %s: %d us%n", what, micros);
    assertThat(Duration.ofNanos(disconnectedAt.get() - closedAt)).isLessThan(DETECTION_BOUND);
    assertThat(firedWhileWorking).as("servlet still working when the watch fired").isTrue();
    release.countDown();
    assertThat(disconnects).hasValue(1);
  }

  private static void assertNothingRegistered(ReadProbe first) {
    assertThat(first.watchCount()).isZero();
    assertThat(first.isReadInterested()).isFalse();
  }

  private Socket connect() throws IOException {
    Socket socket = new Socket();
    socket.connect(new InetSocketAddress("127.0.0.1", port), 5_000);
    socket.setSoTimeout(10_000);
    return socket;
  }

  private Session h2cSession() throws Exception {
    http2Client = new HTTP2Client();
    http2Client.start();
    return http2Client
        .connect(new InetSocketAddress("127.0.0.1", port), new Session.Listener() {})
        .get(5, SECONDS);
  }

  private HeadersFrame h2cGet(String target) {
    MetaData.Request request =
        new MetaData.Request(
            "GET",
            HttpURI.from("http://127.0.0.1:" + port + target),
            HttpVersion.HTTP_2,
            HttpFields.EMPTY);
    return new HeadersFrame(request, null, true);
  }

  private static String get(String target) {
    return "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
  }

  private static String post(String target, int length) {
    return "POST "
        + target
        + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/plain\r\n"
        + "Content-Length: "
        + length
        + "\r\n\r\n";
  }

  private static void send(Socket socket, String text) throws IOException {
    OutputStream out = socket.getOutputStream();
    out.write(text.getBytes(US_ASCII));
    out.flush();
  }

  /** Reads one HTTP/1.1 response with a Content-Length and returns its body; asserts a 200. */
  private static String readResponse(Socket socket) throws IOException {
    InputStream in = socket.getInputStream();
    String status = readLine(in);
    assertThat(status).startsWith("HTTP/1.1 200");
    int length = -1;
    for (String line = readLine(in); !line.isEmpty(); line = readLine(in)) {
      String lower = line.toLowerCase(Locale.ROOT);
      if (lower.startsWith("content-length:")) {
        length = Integer.parseInt(lower.substring("content-length:".length()).trim());
      }
    }
    assertThat(length).as("Content-Length").isNotNegative();
    return new String(in.readNBytes(length), US_ASCII);
  }

  private static String readLine(InputStream in) throws IOException {
    ByteArrayOutputStream line = new ByteArrayOutputStream();
    for (int b = in.read(); b != '\n'; b = in.read()) {
      if (b < 0) {
        throw new IOException("connection closed mid-response after: " + line);
      }
      if (b != '\r') {
        line.write(b);
      }
    }
    return line.toString(US_ASCII);
  }

  /** Watches its request, then works (waits for the test) for up to 5 s. */
  private final class WatchingServlet extends HttpServlet {
    @Override
    protected void service(HttpServletRequest request, HttpServletResponse response)
        throws IOException {
      HttpServletRequest watched =
          request.getParameter("wrap") != null ? new HttpServletRequestWrapper(request) : request;
      DisconnectDetector detector =
          switch (String.valueOf(request.getParameter("detector"))) {
            case "late" -> lateDetector;
            case "patient" -> patientDetector;
            default -> JettyDisconnectDetectorTest.this.detector;
          };
      if (request.getParameter("async") != null) {
        watchPastTheDispatch(request, detector);
        return;
      }
      if (request.getParameter("leave") != null) {
        // The client leaves while the request is on its way to the application.
        entered.countDown();
        try {
          if (!clientLeft.await(5, SECONDS)) {
            servletFailure.set("the client never left");
          }
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
      // Another watch on the same request, closed before the work starts, must not fire.
      Watch earlier =
          request.getParameter("second") == null
              ? Watch.NONE
              : detector.watch(request, () -> servletFailure.set("closed watch fired"));
      Watch watch =
          detector.watch(
              watched,
              () -> {
                disconnectedAt.set(System.nanoTime());
                firedWhileWorking.set(release.getCount() > 0);
                disconnects.incrementAndGet();
                disconnected.countDown();
              });
      firedBeforeWatchReturned.set(disconnects.get() > 0);
      earlier.close();
      String body = "";
      try {
        if ("before".equals(request.getParameter("read"))) {
          body = new String(request.getInputStream().readAllBytes(), US_ASCII);
        } else if ("exact".equals(request.getParameter("read"))) {
          // Like a JSON parser that stops at the closing brace: never reads the end of the body.
          body =
              new String(request.getInputStream().readNBytes(request.getContentLength()), US_ASCII);
        }
        watchedCore.set(JettyWatches.coreRequest(request));
        started.countDown();
        if ("early".equals(request.getParameter("answer"))) {
          if (!answerNow.await(5, SECONDS)) {
            servletFailure.set("never told to answer");
          }
          // The whole answer (Content-Length reached) while the work goes on.
          answer(request, response, body);
        }
        if (request.getParameter("wait") != null && !release.await(5, SECONDS)) {
          servletFailure.set("never released");
        }
        if ("after".equals(request.getParameter("read"))) {
          body = new String(request.getInputStream().readAllBytes(), US_ASCII);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        servletFailure.set(e.toString());
      } finally {
        // The work is done before the answer is written: a client that closes right after reading
        // the answer must not count as a disconnect during the work.
        watch.close();
      }
      if (request.getParameter("leave") != null || request.getParameter("answer") != null) {
        // Nobody to answer, or answered already.
        return;
      }
      answer(request, response, body);
    }

    /**
     * Goes asynchronous, tells the watch so on this dispatch, and answers from a thread of its own
     * once released, leaving the watch open (an application that forgets it): the probe must end
     * with the stream.
     */
    private void watchPastTheDispatch(HttpServletRequest request, DisconnectDetector detector) {
      Watch watch = detector.watch(request, disconnects::incrementAndGet);
      AsyncContext async = request.startAsync();
      async.setTimeout(0);
      watch.asyncStarted();
      watchedCore.set(JettyWatches.coreRequest(request));
      started.countDown();
      Thread worker =
          new Thread(
              () -> {
                try {
                  if (!release.await(5, SECONDS)) {
                    servletFailure.set("never released");
                  }
                  answer(request, (HttpServletResponse) async.getResponse(), "");
                } catch (IOException | InterruptedException e) {
                  servletFailure.set(e.toString());
                } finally {
                  async.complete();
                }
              });
      worker.setDaemon(true);
      worker.start();
    }

    private void answer(HttpServletRequest request, HttpServletResponse response, String body)
        throws IOException {
      byte[] answer = ("id=" + request.getParameter("id") + " body=" + body).getBytes(US_ASCII);
      response.setContentType("text/plain");
      response.setContentLength(answer.length);
      response.getOutputStream().write(answer);
    }
  }
}
