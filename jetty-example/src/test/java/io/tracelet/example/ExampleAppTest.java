package io.tracelet.example;

import static org.assertj.core.api.Assertions.assertThat;

import io.opentelemetry.api.GlobalOpenTelemetry;
import io.tracelet.RequestId;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The example's routes on a real Jetty (port 0) with the default, log-only set-up. */
class ExampleAppTest {

  private static final HttpClient client =
      HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
  private static LogCapture exampleLog;
  private static ExampleApp app;

  @BeforeAll
  static void startApp() throws Exception {
    GlobalOpenTelemetry.resetForTest();
    exampleLog = LogCapture.of("io.tracelet.example");
    app =
        ExampleApp.start(
            new ExampleApp.Options(
                "127.0.0.1",
                0,
                0,
                "jdbc:h2:mem:routes-" + System.nanoTime() + ";DB_CLOSE_DELAY=-1",
                Map.of()));
  }

  @AfterAll
  static void stopApp() {
    if (app != null) {
      app.close();
    }
    if (exampleLog != null) {
      exampleLog.close();
    }
    GlobalOpenTelemetry.resetForTest();
  }

  @Test
  void order_callsPaymentsAndAnswersCreated() throws Exception {
    HttpResponse<String> response = get("/order", Map.of());

    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.body().strip()).isEqualTo("Order created successfully");
    assertThat(exampleLog.linesContaining("payments: charge pay-")).isNotEmpty();
  }

  @Test
  void concurrentOrders_areAllCompleted_noneCancelledAsDisconnected() throws Exception {
    // 100 /order requests from 16 keep-alive clients: each one must run to the end. Before the
    // disconnect probe confirmed an empty readable socket, a few were cancelled as "client
    // disconnected" under this load and answered 200 with an empty body.
    ExecutorService clients = Executors.newFixedThreadPool(16);
    try {
      List<Future<HttpResponse<String>>> sent = new ArrayList<>();
      for (int i = 0; i < 100; i++) {
        sent.add(clients.submit(() -> get("/order", Map.of())));
      }
      for (Future<HttpResponse<String>> response : sent) {
        HttpResponse<String> r = response.get(60, TimeUnit.SECONDS);
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body().strip()).isEqualTo("Order created successfully");
      }
    } finally {
      clients.shutdownNow();
    }
  }

  @Test
  void slowStore_answers504OnItsDeadline_andCancelsTheQueryInTheDatabase() throws Exception {
    HttpResponse<String> response = get("/slow-store", Map.of());

    assertThat(response.statusCode()).isEqualTo(504);
    assertThat(response.headers().firstValue("Content-Type")).hasValue("application/json");
    assertThat(response.body()).isEqualTo("{\"error\":\"store lookup timed out\"}");
    // No wall-clock bound here (timings are for benchmarks/): a 500 ms query that ran to the end
    // would have answered 200 with the task; 504 with DeadlineExceededException means the 100 ms
    // deadline stopped it.
    // Cancelled in the database, not abandoned: the driver returned only after it stopped.
    assertThat(app.store().runningSlowQueries()).isZero();
    assertThat(exampleLog.linesContaining("slow-store: store lookup failed"))
        .anySatisfy(line -> assertThat(line).contains("DeadlineExceededException"));
  }

  @Test
  void task_foundWithin2sDeadline_answersJson() throws Exception {
    HttpResponse<String> response = get("/tasks/1", Map.of());

    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.headers().firstValue("Content-Type")).hasValue("application/json");
    assertThat(response.body()).isEqualTo("{\"id\":1,\"title\":\"Sample task\"}");
  }

  @Test
  void task_nonNumericId_answers400Json() throws Exception {
    HttpResponse<String> response = get("/tasks/abc", Map.of());

    assertThat(response.statusCode()).isEqualTo(400);
    assertThat(response.headers().firstValue("Content-Type")).hasValue("application/json");
    assertThat(response.body()).isEqualTo("{\"error\":\"task id must be a number\"}");
  }

  @Test
  void trace_echoesValidRequestId() throws Exception {
    HttpResponse<String> response = get("/trace", Map.of("X-Request-ID", "order-42.retry:1"));

    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.body()).isEqualTo("{\"requestID\":\"order-42.retry:1\"}");
    assertThat(response.headers().firstValue("X-Request-ID")).hasValue("order-42.retry:1");
  }

  @Test
  void trace_invalidRequestId_isReplacedByGeneratedOne() throws Exception {
    HttpResponse<String> response = get("/trace", Map.of("X-Request-ID", "not valid <script>"));

    Matcher m = Pattern.compile("\\{\"requestID\":\"([^\"]+)\"\\}").matcher(response.body());
    assertThat(m.matches()).as(response.body()).isTrue();
    String generated = m.group(1);
    assertThat(generated).isNotEqualTo("not valid <script>");
    assertThat(RequestId.isValid(generated)).isTrue();
    assertThat(response.headers().firstValue("X-Request-ID")).hasValue(generated);
  }

  @Test
  void sameConnector_servesH2c() throws Exception {
    HttpClient h2 = HttpClient.newBuilder().version(HttpClient.Version.HTTP_2).build();
    HttpResponse<String> response =
        h2.send(
            HttpRequest.newBuilder(uri("/trace")).build(), HttpResponse.BodyHandlers.ofString());

    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.version()).isEqualTo(HttpClient.Version.HTTP_2);
  }

  @Test
  void slow_clientDisconnect_stopsTheWorkWithTheCause() throws Exception {
    String requestId = "slow-" + System.nanoTime();
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress("127.0.0.1", app.port()), 2_000);
      OutputStream out = socket.getOutputStream();
      out.write(
          ("GET /slow HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Request-ID: " + requestId + "\r\n\r\n")
              .getBytes(StandardCharsets.US_ASCII));
      out.flush();
      assertThat(exampleLog.await(l -> l.contains("slow: working"), Duration.ofSeconds(5)))
          .isNotNull();
    }

    String cancelled =
        exampleLog.await(l -> l.startsWith("slow: request cancelled"), Duration.ofSeconds(3));
    assertThat(cancelled).contains("CanceledException").contains("client disconnected");
  }

  private static HttpResponse<String> get(String path, Map<String, String> headers)
      throws Exception {
    HttpRequest.Builder request = HttpRequest.newBuilder(uri(path)).timeout(Duration.ofSeconds(10));
    headers.forEach(request::header);
    return client.send(request.build(), HttpResponse.BodyHandlers.ofString());
  }

  private static URI uri(String path) {
    return URI.create("http://127.0.0.1:" + app.port() + path);
  }
}
