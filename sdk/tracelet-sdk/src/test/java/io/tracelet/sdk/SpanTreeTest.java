package io.tracelet.sdk;

import static org.assertj.core.api.Assertions.assertThat;

import io.opentelemetry.api.trace.Span;
import io.opentelemetry.context.Context;
import io.tracelet.sdk.SpanTreeRenderer.Node;
import io.tracelet.testing.LogCapture;
import io.tracelet.testing.TestTracing;
import io.tracelet.trace.SpanScope;
import io.tracelet.trace.Spans;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class SpanTreeTest {

  private static final long T0 = 1_700_000_000_000_000_000L;
  private static final String TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";

  private final LogCapture log = LogCapture.info(SpanTree.LOGGER_NAME);
  private TestTracing tracing;

  @AfterEach
  void close() {
    log.close();
    if (tracing != null) {
      tracing.close();
    }
  }

  private static long ms(double millis) {
    return T0 + (long) (millis * 1_000_000);
  }

  @Test
  void render_drawsNestingOffsetsDurationsAndStatus() {
    List<Node> nodes =
        List.of(
            new Node("a", "", "GET /orders", ms(0), ms(50.123), "UNSET"),
            new Node("d", "a", "sendEmail", ms(12), -1, "UNSET"),
            new Node("b", "a", "validateOrder", ms(1.002), ms(11.002), "OK"),
            new Node("c", "b", "db.query", ms(2), ms(5), "ERROR"));
    String expected =
        String.join(
            "\n",
            "span tree trace=" + TRACE + " root='GET /orders' spans=4 duration=50.123ms",
            "    +0.000ms     50.123ms UNSET  GET /orders",
            "    +1.002ms     10.000ms OK     +- validateOrder",
            "    +2.000ms      3.000ms ERROR  |  `- db.query",
            "   +12.000ms    >38.123ms open   `- sendEmail",
            "  (open = still running when the root ended; its end is logged as 'span late')");
    assertThat(SpanTreeRenderer.render(TRACE, nodes, 0, 256)).isEqualTo(expected);
  }

  @Test
  void render_countsOverflow_andHangsOrphansUnderRoot_andSanitizesNames() {
    List<Node> nodes =
        List.of(
            new Node("a", "", "root", ms(0), ms(3), "OK"),
            new Node("x", "gone", "orphan\nforged", ms(1), ms(2), "OK"));
    String out = SpanTreeRenderer.render(TRACE, nodes, 3, 2);
    assertThat(out)
        .contains("spans=5 ")
        .contains("`- orphan?forged")
        .endsWith("  ... 3 more spans not recorded (limit 2 per tree)");
    assertThat(out.lines()).hasSize(4);
  }

  @Test
  void processor_drawsChildrenFromOtherThreads_marksOpenOnes_andLogsLateEnds() throws Exception {
    SpanTree tree = SpanTree.builder().setMaxSpansPerTree(3).build();
    tracing = new TestTracing(tree);
    Spans spans = Spans.create(tracing.openTelemetry());

    Span stillRunning;
    try (SpanScope request = spans.start("request")) {
      Context ctx = Context.current();
      CompletableFuture.runAsync(ctx.wrap(() -> spans.run("onOtherThread", () -> {})))
          .get(5, TimeUnit.SECONDS);
      stillRunning = spans.tracer().spanBuilder("stillRunning").startSpan();
      spans.run("overflow", () -> {});
    }
    assertThat(tree.tracesInFlight()).isZero();
    List<String> lines = log.messages();
    assertThat(lines).hasSize(1);
    String drawn = lines.get(0);
    assertThat(drawn)
        .startsWith("span tree trace=" + stillRunning.getSpanContext().getTraceId())
        .contains("root='request' spans=4 ")
        .contains("+- onOtherThread")
        .containsPattern(">\\d+\\.\\d{3}ms open   `- stillRunning")
        .contains("... 1 more span not recorded (limit 3 per tree)")
        .doesNotContain("overflow");

    CompletableFuture.runAsync(stillRunning::end).get(5, TimeUnit.SECONDS);
    assertThat(log.messages())
        .hasSize(2)
        .last()
        .asString()
        .startsWith("span late trace=")
        .contains("span=" + stillRunning.getSpanContext().getSpanId())
        .contains("name='stillRunning' duration=");
  }

  @Test
  void processor_boundsTracesInFlight() {
    SpanTree tree = SpanTree.builder().setMaxTracesInFlight(1).build();
    tracing = new TestTracing(tree);
    Spans spans = Spans.create(tracing.openTelemetry());
    Span first = spans.tracer().spanBuilder("neverEnds").setNoParent().startSpan();
    Span second = spans.tracer().spanBuilder("notRecorded").setNoParent().startSpan();
    assertThat(tree.tracesInFlight()).isEqualTo(1);
    assertThat(tree.droppedTraces()).isEqualTo(1);
    second.end();
    first.end();
    assertThat(tree.tracesInFlight()).isZero();
    assertThat(log.messages()).singleElement().asString().contains("root='neverEnds'");
  }
}
