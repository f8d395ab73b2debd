package io.tracelet.example;

import static io.tracelet.example.JaegerServer.childOf;
import static io.tracelet.example.JaegerServer.spanNamed;
import static io.tracelet.example.JaegerServer.tag;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.opentelemetry.api.GlobalOpenTelemetry;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The whole chain against a real Jaeger v2 (built with Go by {@code scripts/jaeger.sh} and cached):
 * the example exports over OTLP, once over http/protobuf and once over gRPC, and the traces are
 * read back from Jaeger's query API.
 *
 * <p>Without Go (and without a cached Jaeger) the test is skipped with a loud message; with {@code
 * CI=true} that is a failure (see {@link JaegerServer}).
 */
class JaegerEndToEndTest {

  /** The span tree of {@code GET /order} across both services: span name to parent name. */
  static final Map<String, String> ORDER_TREE =
      Map.of(
          "GET /order", "-",
          "orderHandler", "GET /order",
          "validateOrder", "orderHandler",
          "processPayment", "orderHandler",
          "processPayment.callPaymentGateway", "processPayment",
          "POST", "processPayment.callPaymentGateway",
          "POST /charge", "POST",
          "authorizeCharge", "POST /charge",
          "createOrderRecord", "orderHandler");

  private static final HttpClient client =
      HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
  private static final Pattern SPAN_LINE =
      Pattern.compile("span end trace=(\\w+) span=(\\w+) parent=(\\w+|-) name='([^']*)'");

  private static JaegerServer jaeger;

  @BeforeAll
  static void startJaeger() throws Exception {
    jaeger = JaegerServer.start("jaeger-run");
  }

  @AfterAll
  static void stopJaeger() throws Exception {
    GlobalOpenTelemetry.resetForTest();
    if (jaeger != null) {
      jaeger.close();
    }
  }

  @ParameterizedTest(name = "OTLP over {0}")
  @ValueSource(strings = {"http/protobuf", "grpc"})
  void tracesOfTheExample_arriveInJaegerWithTheirTree(String protocol) throws Exception {
    String suffix = protocol.equals("grpc") ? "grpc" : "http";
    String service = "tracelet-example-e2e-" + suffix;
    String orderRequestId = "e2e-order-" + suffix;

    Map<String, String> traceIds = new HashMap<>();
    List<String> spanLog;
    GlobalOpenTelemetry.resetForTest();
    try (LogCapture spans = LogCapture.of("io.tracelet.spans")) {
      ExampleApp app =
          ExampleApp.start(
              new ExampleApp.Options(
                  "127.0.0.1",
                  0,
                  0,
                  "jdbc:h2:mem:e2e-" + suffix + "-" + System.nanoTime() + ";DB_CLOSE_DELAY=-1",
                  Map.of(
                      "otel.traces.exporter",
                      "otlp",
                      "otel.exporter.otlp.protocol",
                      protocol,
                      "otel.exporter.otlp.endpoint",
                      jaeger.otlpEndpoint(protocol),
                      "otel.service.name",
                      service)));
      try {
        traceIds.put("/order", send(app, "/order", orderRequestId, 200));
        traceIds.put("/slow-store", send(app, "/slow-store", "e2e-slow-store-" + suffix, 504));
        traceIds.put("/tasks/1", send(app, "/tasks/1", "e2e-task-" + suffix, 200));
        traceIds.put("/trace", send(app, "/trace", "e2e-trace-" + suffix, 200));
      } finally {
        app.close(); // stops both services and flushes the spans to Jaeger
        GlobalOpenTelemetry.resetForTest();
      }
      spanLog = spans.lines();
    }

    // /order: the tree across both services, as the span log printed it.
    JsonNode order = jaeger.trace(traceIds.get("/order"), 9);
    Map<String, String> loggedParents = parentsFromSpanLog(spanLog, traceIds.get("/order"));
    Map<String, String> jaegerParents = new HashMap<>();
    Set<String> services = new HashSet<>();
    for (JsonNode span : order.get("spans")) {
      jaegerParents.put(span.get("spanID").asText(), childOf(span));
      services.add(
          order.get("processes").get(span.get("processID").asText()).get("serviceName").asText());
    }
    assertThat(jaegerParents).isEqualTo(loggedParents);
    assertThat(JaegerServer.parentNames(order)).containsExactlyInAnyOrderEntriesOf(ORDER_TREE);
    assertThat(services).containsExactlyInAnyOrder(service, ExampleApp.PAYMENTS_SERVICE_NAME);
    JsonNode server = spanNamed(order, "GET /order");
    assertThat(tag(server, "span.kind")).isEqualTo("server");
    assertThat(tag(server, "tracelet.request_id")).isEqualTo(orderRequestId);
    assertThat(tag(spanNamed(order, "POST /charge"), "tracelet.request_id"))
        .isEqualTo(orderRequestId);

    // /slow-store: the 504 is an error on the server span, and the lookup span was cut short.
    JsonNode slowStore = jaeger.trace(traceIds.get("/slow-store"), 2);
    JsonNode slowServer = spanNamed(slowStore, "GET /slow-store");
    assertThat(tag(slowServer, "otel.status_code")).isEqualTo("ERROR");
    assertThat(tag(slowServer, "http.response.status_code")).isEqualTo("504");
    assertThat(tag(slowServer, "error")).isEqualTo("true");

    JsonNode task = jaeger.trace(traceIds.get("/tasks/1"), 2);
    assertThat(tag(spanNamed(task, "GET /tasks/{id}"), "http.response.status_code"))
        .isEqualTo("200");

    // The search API finds all four requests of this run's service.
    JsonNode search = jaeger.search(service, null, 100);
    List<String> found = new ArrayList<>();
    search.forEach(t -> found.add(t.get("traceID").asText()));
    assertThat(found).containsAll(traceIds.values());
  }

  /** Sends a request and returns its trace ID from the {@code traceresponse} header. */
  static String send(ExampleApp app, String path, String requestId, int expectedStatus)
      throws Exception {
    HttpResponse<String> response =
        client.send(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + app.port() + path))
                .header("X-Request-ID", requestId)
                .timeout(Duration.ofSeconds(10))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(response.statusCode()).as(path).isEqualTo(expectedStatus);
    String traceResponse = response.headers().firstValue("traceresponse").orElseThrow();
    return traceResponse.split("-")[1];
  }

  private static Map<String, String> parentsFromSpanLog(List<String> lines, String traceId) {
    Map<String, String> parents = new HashMap<>();
    for (String line : lines) {
      Matcher m = SPAN_LINE.matcher(line);
      if (m.find() && m.group(1).equals(traceId)) {
        parents.put(m.group(2), m.group(3));
      }
    }
    return parents;
  }
}
