package io.tracelet.servlet;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * The filter under the real OpenTelemetry Java agent, whose Jetty and servlet instrumentation makes
 * its own server span current before any filter runs. {@link AgentApp} runs in a JVM started with
 * {@code -javaagent} (the jar is fetched by Maven into {@code target/otel-agent}, property {@code
 * tracelet.otel.agent}) and the agent's console exporter prints every span it ends.
 *
 * <p>Expected: the filter joins the agent's request instead of treating its context as a leaked one
 * — one server span per request (the agent's), no leak counted or logged, and the request ID,
 * deadline and response headers on top of the agent's span.
 */
@EnabledIfSystemProperty(named = "tracelet.otel.agent", matches = ".+")
class JavaAgentTest {

  private static final int REQUESTS = 3;
  // The console exporter's line: 'name' : traceId spanId KIND [tracer: scope:version] attributes
  private static final Pattern SPAN =
      Pattern.compile(
          "'([^']*)' : ([0-9a-f]{32}) ([0-9a-f]{16}) ([A-Z]+) \\[tracer: ([^:\\]]+)[^\\]]*\\] (.*)");
  private static final Pattern SEEN =
      Pattern.compile("^SEEN (\\d+) trace=(\\S+) span=(\\S+) rid=(\\S+) deadline=(\\S+)");
  private static final Pattern RESPONSE =
      Pattern.compile("^RESPONSE (\\d+) status=(\\d+) traceresponse=(\\S+) rid=(\\S+)");

  @Test
  void underTheAgent_oneServerSpanPerRequest_andNoLeakReported() throws Exception {
    Path agent = Path.of(System.getProperty("tracelet.otel.agent"));
    assertThat(agent).as("fetched by the build (maven-dependency-plugin)").exists();
    List<String> out = runUnderAgent(agent);
    String all = String.join("\n", out);

    List<String[]> serverSpans = new ArrayList<>();
    for (String line : out) {
      Matcher m = SPAN.matcher(line);
      if (m.find() && m.group(4).equals("SERVER")) {
        serverSpans.add(new String[] {m.group(2), m.group(3), m.group(5), m.group(6)});
      }
    }
    Map<String, Matcher> seen = byIndex(out, SEEN);
    Map<String, Matcher> responses = byIndex(out, RESPONSE);

    assertThat(all).as("output of the agent JVM").contains("LEAKED 0");
    assertThat(all).as("the filter sees the agent").contains("AGENT true");
    assertThat(all).contains("JOINED " + REQUESTS);
    assertThat(all).doesNotContain("still carried a context");
    assertThat(serverSpans).as("one server span per request\n%s", all).hasSize(REQUESTS);
    assertThat(serverSpans).allSatisfy(s -> assertThat(s[2]).isNotEqualTo("io.tracelet.servlet"));
    for (int i = 0; i < REQUESTS; i++) {
      String key = Integer.toString(i);
      Matcher s = seen.get(key);
      Matcher r = responses.get(key);
      assertThat(s).as("request %d reached the servlet\n%s", i, all).isNotNull();
      assertThat(r).as("request %d was answered", i).isNotNull();
      String[] span =
          serverSpans.stream().filter(x -> x[1].equals(s.group(3))).findFirst().orElse(null);
      assertThat(span).as("the servlet runs in the agent's server span (%d)", i).isNotNull();
      assertThat(span[3]).contains("tracelet.request_id=agent-" + i);
      assertThat(s.group(4)).isEqualTo("agent-" + i);
      assertThat(s.group(5)).as("the request has its deadline").isEqualTo("true");
      assertThat(r.group(2)).isEqualTo("200");
      assertThat(r.group(4)).isEqualTo("agent-" + i);
      // The flags may carry W3C level 2's random-trace-ID bit next to "sampled".
      assertThat(r.group(3)).startsWith("00-" + span[0] + "-" + span[1] + "-");
    }
    assertThat(seen.get("1").group(2))
        .as("the caller's trace is continued (by the agent)")
        .isEqualTo("0af7651916cd43dd8448eb211c80319c");
  }

  private static Map<String, Matcher> byIndex(List<String> lines, Pattern p) {
    Map<String, Matcher> out = new HashMap<>();
    for (String line : lines) {
      Matcher m = p.matcher(line);
      if (m.find()) {
        out.put(m.group(1), m);
      }
    }
    return out;
  }

  private static List<String> runUnderAgent(Path agent) throws IOException, InterruptedException {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    Path log = Files.createTempFile("tracelet-agent", ".log");
    try {
      Process p =
          new ProcessBuilder(
                  java,
                  "-javaagent:" + agent,
                  "-Dotel.service.name=tracelet-agent-test",
                  "-Dotel.traces.exporter=console",
                  "-Dotel.metrics.exporter=none",
                  "-Dotel.logs.exporter=none",
                  "-Dotel.bsp.schedule.delay=50",
                  "-cp",
                  System.getProperty("java.class.path"),
                  AgentApp.class.getName(),
                  Integer.toString(REQUESTS))
              .redirectErrorStream(true)
              .redirectOutput(log.toFile())
              .start();
      // Generous: the agent instruments every class it loads, and the machine may be busy.
      if (!p.waitFor(5, TimeUnit.MINUTES)) {
        p.destroyForcibly();
        throw new AssertionError("the agent JVM did not finish:\n" + Files.readString(log));
      }
      List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
      assertThat(p.exitValue()).as("agent JVM exit\n%s", String.join("\n", lines)).isZero();
      return lines;
    } finally {
      Files.deleteIfExists(log);
    }
  }
}
