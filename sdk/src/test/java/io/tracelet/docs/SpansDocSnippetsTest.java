package io.tracelet.docs;

import static org.assertj.core.api.Assertions.assertThat;

import io.opentelemetry.api.GlobalOpenTelemetry;
import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.context.Context;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.tracelet.logging.TraceletMdc;
import io.tracelet.testing.TestTracing;
import io.tracelet.trace.SpanLog;
import io.tracelet.trace.SpanScope;
import io.tracelet.trace.SpanTree;
import io.tracelet.trace.Spans;
import io.tracelet.trace.TraceletOpenTelemetry;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The code blocks of docs/spans.md, compiled and run. Each block between {@code // snippet:name}
 * and {@code // end} here must equal the block after {@code <!-- snippet:name -->} in the markdown.
 */
class SpansDocSnippetsTest {

  private static final Path SOURCE =
      Path.of("src/test/java/io/tracelet/docs/SpansDocSnippetsTest.java");
  private static final Path DOC = Path.of("../docs/spans.md");

  @Test
  void helpers() throws Exception {
    try (TestTracing tracing = new TestTracing()) {
      OpenTelemetry openTelemetry = tracing.openTelemetry();
      // snippet:helpers
      Spans spans = Spans.create(openTelemetry); // or Spans.global()
      try (SpanScope scope = spans.start("validateOrder")) {
        scope.span().setAttribute("order.items", 3);
      } // ends the span and restores the previous context
      int total = spans.call("priceOrder", () -> 42); // records and rethrows failures
      // end
      assertThat(total).isEqualTo(42);
      assertThat(tracing.exporter.getFinishedSpanItems()).hasSize(2);
    }
  }

  @Test
  void executorHop() throws Exception {
    try (TestTracing tracing = new TestTracing()) {
      Spans spans = Spans.create(tracing.openTelemetry());
      // snippet:executor
      ExecutorService pool = Context.taskWrapping(Executors.newFixedThreadPool(4));
      try (SpanScope request = spans.start("request")) {
        pool.submit(() -> spans.run("sendEmail", () -> {})).get();
      }
      pool.shutdown();
      // end
      assertThat(tracing.exporter.getFinishedSpanItems()).hasSize(2);
    }
  }

  @Test
  void processors() {
    // snippet:processors
    SdkTracerProvider tracerProvider =
        SdkTracerProvider.builder()
            .addSpanProcessor(SpanLog.create(SpanLog.Mode.END))
            .addSpanProcessor(SpanTree.builder().setMaxSpansPerTree(256).build())
            .build();
    // end
    tracerProvider.close();
  }

  @Test
  void setup() {
    GlobalOpenTelemetry.resetForTest();
    try {
      // snippet:setup
      TraceletMdc.install(); // first line of main: only needed without the service provider
      try (TraceletOpenTelemetry otel = TraceletOpenTelemetry.initialize()) {
        Spans.global().run("startup", () -> {});
      } // flushes pending spans (bounded, 5 s by default)
      // end
      assertThat(TraceletMdc.isActive()).isTrue();
    } finally {
      GlobalOpenTelemetry.resetForTest();
    }
  }

  @Test
  void markdownBlocks_matchTheCompiledSnippets() throws IOException {
    Map<String, String> compiled = snippets(Files.readString(SOURCE));
    Map<String, String> documented = new LinkedHashMap<>();
    Matcher m =
        Pattern.compile("<!-- snippet:(\\w+) -->\\s*```java\\n(.*?)```", Pattern.DOTALL)
            .matcher(Files.readString(DOC));
    while (m.find()) {
      documented.put(m.group(1), m.group(2).strip());
    }
    assertThat(compiled).hasSize(4);
    assertThat(documented).isEqualTo(compiled);
  }

  private static Map<String, String> snippets(String source) {
    Map<String, String> out = new LinkedHashMap<>();
    String name = null;
    List<String> lines = new ArrayList<>();
    for (String line : source.split("\n")) {
      String trimmed = line.strip();
      if (trimmed.startsWith("// snippet:")) {
        name = trimmed.substring("// snippet:".length());
        lines.clear();
      } else if (name != null && trimmed.equals("// end")) {
        out.put(name, dedent(lines));
        name = null;
      } else if (name != null) {
        lines.add(line);
      }
    }
    return out;
  }

  private static String dedent(List<String> lines) {
    int indent =
        lines.stream()
            .filter(l -> !l.isBlank())
            .mapToInt(l -> l.length() - l.stripLeading().length())
            .min()
            .orElse(0);
    StringBuilder b = new StringBuilder();
    for (String l : lines) {
      b.append(l.isBlank() ? "" : l.substring(indent)).append('\n');
    }
    return b.toString().strip();
  }
}
