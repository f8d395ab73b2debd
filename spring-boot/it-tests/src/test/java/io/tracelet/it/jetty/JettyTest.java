package io.tracelet.it.jetty;

import static io.tracelet.it.Apps.get;
import static io.tracelet.it.Apps.serverSpans;
import static io.tracelet.it.Apps.traceIdOf;
import static java.nio.charset.StandardCharsets.US_ASCII;
import static org.assertj.core.api.Assertions.assertThat;

import io.opentelemetry.sdk.trace.data.SpanData;
import io.tracelet.CanceledException;
import io.tracelet.it.Apps;
import io.tracelet.it.InMemoryOtel;
import io.tracelet.it.Signals;
import io.tracelet.it.TestApp;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.http.HttpResponse;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.context.ConfigurableApplicationContext;

/** The starter on Spring Boot's Jetty, with virtual threads. */
class JettyTest {
  private static ConfigurableApplicationContext app;

  @BeforeAll
  static void start() {
    app =
        Apps.start(
            new Class<?>[] {TestApp.class, InMemoryOtel.class},
            "spring.threads.virtual.enabled=true");
  }

  @AfterAll
  static void stop() {
    Signals.reset();
    if (app != null) {
      app.close();
    }
  }

  @BeforeEach
  void clear() {
    Signals.reset();
    InMemoryOtel.SPANS.reset();
  }

  @Test
  void theServer_isJetty_onVirtualThreads() throws Exception {
    HttpResponse<String> response = get(app, "/context");
    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(Signals.thread.get()).isNull();
    get(app, "/wait", "X-Request-Timeout-Ms", "50");
    // Both spans end after their answers; wait, so that they do not reach the next test.
    Apps.await(
        "both server spans",
        () -> serverSpans(InMemoryOtel.SPANS.getFinishedSpanItems()).size() == 2);
    // Tomcat is not on this class path (see the pom), so Spring Boot started Jetty.
    assertThat(classPresent("org.apache.catalina.startup.Tomcat")).isFalse();
    assertThat(classPresent("org.eclipse.jetty.server.Server")).isTrue();
    // Virtual threads need Java 21; the pom runs this class on the newest JDK it finds.
    Assumptions.assumeTrue(Runtime.version().feature() >= 21, "virtual threads need Java 21+");
    assertThat(Thread.class.getMethod("isVirtual").invoke(Signals.thread.get())).isEqualTo(true);
  }

  private static boolean classPresent(String name) {
    try {
      Class.forName(name, false, JettyTest.class.getClassLoader());
      return true;
    } catch (ClassNotFoundException e) {
      return false;
    }
  }

  @Test
  void aRequest_hasOneServerSpan_namedWithTheRoute() throws Exception {
    HttpResponse<String> response = get(app, "/orders/7");
    assertThat(response.statusCode()).isEqualTo(200);
    SpanData span = Apps.onlyServerSpan(InMemoryOtel.SPANS);
    assertThat(span.getName()).isEqualTo("GET /orders/{id}");
    assertThat(traceIdOf(response.headers().firstValue("traceresponse").orElseThrow()))
        .isEqualTo(span.getTraceId());
  }

  @Test
  void aClientThatLeaves_cancelsTheControllersCancellation() throws Exception {
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress("127.0.0.1", Apps.port(app)), 5000);
      OutputStream out = socket.getOutputStream();
      out.write("GET /wait HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".getBytes(US_ASCII));
      out.flush();
      assertThat(Signals.entered.await(10, TimeUnit.SECONDS)).isTrue();
    }
    assertThat(Signals.cancelled.await(10, TimeUnit.SECONDS))
        .as("the controller's Cancellation fired after the client left")
        .isTrue();
    assertThat(Signals.cause.get()).isInstanceOf(CanceledException.class);
    Apps.await(
        "the server span", () -> !serverSpans(InMemoryOtel.SPANS.getFinishedSpanItems()).isEmpty());
    SpanData span = serverSpans(InMemoryOtel.SPANS.getFinishedSpanItems()).get(0);
    assertThat(span.getName()).isEqualTo("GET /wait");
    assertThat(span.getEvents()).anyMatch(e -> e.getName().equals("client disconnected"));
  }
}
