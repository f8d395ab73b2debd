package io.tracelet.example;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.File;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * A real Jaeger v2 for the tests, run through {@code scripts/jaeger.sh} (which builds it with Go
 * the first time and caches it) on free loopback ports, with helpers to read its query API.
 *
 * <p>Without Go (and without a cached Jaeger) the calling test is skipped with a loud message; with
 * {@code CI=true} that is a failure.
 */
final class JaegerServer implements AutoCloseable {

  private static final ObjectMapper json = new ObjectMapper();
  private static final HttpClient client =
      HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
  private static final Path script = findScript();

  private final Map<String, String> env = new HashMap<>();
  private final int queryPort;
  private final int otlpHttpPort;
  private final int otlpGrpcPort;

  private JaegerServer(Path runDir) throws IOException {
    int[] ports = freePorts(4);
    queryPort = ports[0];
    otlpGrpcPort = ports[1];
    otlpHttpPort = ports[2];
    env.put("JAEGER_QUERY_PORT", Integer.toString(queryPort));
    env.put("JAEGER_OTLP_GRPC_PORT", Integer.toString(otlpGrpcPort));
    env.put("JAEGER_OTLP_HTTP_PORT", Integer.toString(otlpHttpPort));
    env.put("JAEGER_QUERY_GRPC_PORT", Integer.toString(ports[3]));
    env.put("TRACELET_JAEGER_RUN_DIR", runDir.toString());
  }

  /**
   * Installs Jaeger if needed and starts it, its PID file and log under {@code target/<name>};
   * aborts the calling test (fails it with {@code CI=true}) when Go is missing.
   */
  static JaegerServer start(String name) throws Exception {
    Path runDir = Path.of("target", name).toAbsolutePath();
    Files.createDirectories(runDir);
    JaegerServer jaeger = new JaegerServer(runDir);

    // Installs Jaeger first if it is not cached: several minutes the first time.
    ScriptResult install = jaeger.runScript("install", Duration.ofMinutes(20));
    if (install.exitCode != 0 && install.output.contains("'go' was not found")) {
      String message =
          "\n**************************************************************************\n"
              + "* Jaeger tests SKIPPED: Go is not installed, so Jaeger cannot be built    *\n"
              + "* (scripts/jaeger.sh install). Install Go >= 1.24.6 to run them.          *\n"
              + "**************************************************************************";
      System.err.println(message);
      if ("true".equalsIgnoreCase(System.getenv("CI"))) {
        fail("CI=true and Go is missing: the Jaeger tests cannot run." + message);
      }
      Assumptions.abort(message);
    }
    assertThat(install.exitCode).as("jaeger.sh install failed:\n%s", install.output).isZero();
    jaeger.start();
    return jaeger;
  }

  /** Starts (or starts again, on the same ports) the Jaeger of this handle. */
  void start() throws Exception {
    ScriptResult start = runScript("start", Duration.ofMinutes(3));
    assertThat(start.exitCode).as("jaeger.sh start failed:\n%s", start.output).isZero();
  }

  /** Stops Jaeger (SIGTERM, then SIGKILL after 10 s); its in-memory traces are gone. */
  void stop() throws Exception {
    ScriptResult stop = runScript("stop", Duration.ofSeconds(30));
    assertThat(stop.exitCode).as("jaeger.sh stop failed:\n%s", stop.output).isZero();
  }

  @Override
  public void close() throws Exception {
    stop();
  }

  /** The OTLP endpoint for {@code otel.exporter.otlp.endpoint}: gRPC's port or HTTP's. */
  String otlpEndpoint(String protocol) {
    return "http://127.0.0.1:" + (protocol.equals("grpc") ? otlpGrpcPort : otlpHttpPort);
  }

  /** The trace from Jaeger, once it has at least {@code minSpans} spans (bounded wait). */
  JsonNode trace(String traceId, int minSpans) throws Exception {
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    JsonNode last = null;
    while (System.nanoTime() - end < 0) {
      HttpResponse<String> response = getRaw("/api/traces/" + traceId);
      if (response.statusCode() == 200) {
        last = json.readTree(response.body()).get("data").get(0);
        if (last.get("spans").size() >= minSpans) {
          return last;
        }
      }
      Thread.sleep(100);
    }
    throw new AssertionError("trace " + traceId + " not complete in Jaeger: " + last);
  }

  /** Whether Jaeger has the trace (any of its spans) right now. */
  boolean hasTrace(String traceId) throws Exception {
    return getRaw("/api/traces/" + traceId).statusCode() == 200;
  }

  /** The traces of a service found by the search API over the last hour, up to {@code limit}. */
  JsonNode search(String service, String operation, int limit) throws Exception {
    String query = "/api/traces?service=" + encode(service) + "&lookback=1h&limit=" + limit;
    if (operation != null) {
      query += "&operation=" + encode(operation);
    }
    return getJson(query).get("data");
  }

  JsonNode getJson(String path) throws Exception {
    HttpResponse<String> response = getRaw(path);
    assertThat(response.statusCode()).as(path + ": " + response.body()).isEqualTo(200);
    return json.readTree(response.body());
  }

  HttpResponse<String> getRaw(String path) throws Exception {
    return client.send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + queryPort + path))
            .timeout(Duration.ofSeconds(10))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  /** The span's CHILD_OF parent span ID, or "-" for a root span. */
  static String childOf(JsonNode span) {
    for (JsonNode ref : span.path("references")) {
      if (ref.get("refType").asText().equals("CHILD_OF")) {
        return ref.get("spanID").asText();
      }
    }
    return "-";
  }

  static JsonNode spanNamed(JsonNode trace, String name) {
    for (JsonNode span : trace.get("spans")) {
      if (span.get("operationName").asText().equals(name)) {
        return span;
      }
    }
    throw new AssertionError("no span '" + name + "' in " + trace);
  }

  static String tag(JsonNode span, String key) {
    for (JsonNode tag : span.get("tags")) {
      if (tag.get("key").asText().equals(key)) {
        return tag.get("value").asText();
      }
    }
    return null;
  }

  /** Each span's name mapped to its parent's name ("-" for the root); names must be unique. */
  static Map<String, String> parentNames(JsonNode trace) {
    Map<String, String> names = new HashMap<>();
    Map<String, String> parents = new HashMap<>();
    for (JsonNode span : trace.get("spans")) {
      String id = span.get("spanID").asText();
      names.put(id, span.get("operationName").asText());
      parents.put(id, childOf(span));
    }
    Map<String, String> parentNameOf = new HashMap<>();
    names.forEach(
        (id, name) -> {
          String parent = parents.get(id);
          assertThat(parentNameOf.put(name, parent.equals("-") ? "-" : names.get(parent)))
              .as("span name %s twice in %s", name, trace)
              .isNull();
        });
    return parentNameOf;
  }

  private static String encode(String value) {
    return URLEncoder.encode(value, StandardCharsets.UTF_8).replace("+", "%20");
  }

  record ScriptResult(int exitCode, String output) {}

  private ScriptResult runScript(String command, Duration timeout) throws Exception {
    File log = File.createTempFile("jaeger-" + command, ".log");
    try {
      ProcessBuilder pb = new ProcessBuilder("bash", script.toString(), command);
      pb.environment().putAll(env);
      pb.redirectErrorStream(true).redirectOutput(log);
      Process process = pb.start();
      if (!process.waitFor(timeout.toSeconds(), TimeUnit.SECONDS)) {
        process.destroyForcibly();
        fail("scripts/jaeger.sh " + command + " did not finish within " + timeout);
      }
      String output = Files.readString(log.toPath(), StandardCharsets.UTF_8);
      System.out.println("scripts/jaeger.sh " + command + ":\n" + output);
      return new ScriptResult(process.exitValue(), output);
    } finally {
      Files.deleteIfExists(log.toPath());
    }
  }

  private static int[] freePorts(int count) throws IOException {
    List<ServerSocket> sockets = new ArrayList<>();
    try {
      int[] ports = new int[count];
      for (int i = 0; i < count; i++) {
        ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
        sockets.add(socket);
        ports[i] = socket.getLocalPort();
      }
      return ports;
    } finally {
      for (ServerSocket socket : sockets) {
        socket.close();
      }
    }
  }

  private static Path findScript() {
    // Surefire runs in the module directory; the script is in the repository root.
    for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
      Path candidate = dir.resolve("scripts").resolve("jaeger.sh");
      if (Files.isRegularFile(candidate)) {
        return candidate;
      }
    }
    throw new IllegalStateException(
        "scripts/jaeger.sh not found above " + Path.of("").toAbsolutePath());
  }
}
