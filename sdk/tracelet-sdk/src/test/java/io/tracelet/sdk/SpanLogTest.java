package io.tracelet.sdk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.Level;
import io.opentelemetry.context.Context;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.tracelet.CancellableContext;
import io.tracelet.testing.LogCapture;
import io.tracelet.testing.TestTracing;
import io.tracelet.trace.SpanScope;
import io.tracelet.trace.Spans;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class SpanLogTest {

  private static final Pattern END =
      Pattern.compile(
          "span end trace=([0-9a-f]{32}) span=([0-9a-f]{16}) parent=([0-9a-f]{16}|-)"
              + " name='((?:[^'\\\\]|\\\\.)*)' duration=(\\d+)\\.(\\d{3})ms status=(UNSET|OK|ERROR)"
              + "(?: cancelled=(\\S+))?(?: error='(.*)')?");
  private static final Pattern START =
      Pattern.compile(
          "span start trace=([0-9a-f]{32}) span=([0-9a-f]{16}) parent=([0-9a-f]{16}|-)"
              + " name='((?:[^'\\\\]|\\\\.)*)' kind=([A-Z]+)");

  private final LogCapture log = LogCapture.info(SpanLog.LOGGER_NAME);
  private TestTracing tracing;

  @AfterEach
  void close() {
    log.close();
    if (tracing != null) {
      tracing.close();
    }
  }

  private Spans spans(SpanLog.Mode mode) {
    tracing = new TestTracing(SpanLog.create(mode));
    return Spans.create(tracing.openTelemetry());
  }

  @Test
  void endLines_parseBackToTheExportedSpans() {
    Spans spans = spans(SpanLog.Mode.END);
    try (SpanScope request = spans.start("request")) {
      spans.run("validateOrder", () -> spans.run("db.query", () -> {}));
    }

    List<String> lines = log.messages();
    assertThat(lines).hasSize(3);
    Map<String, SpanData> exported =
        tracing.exporter.getFinishedSpanItems().stream()
            .collect(Collectors.toMap(SpanData::getSpanId, s -> s));
    for (String line : lines) {
      Matcher m = END.matcher(line);
      assertThat(m.matches()).as(line).isTrue();
      SpanData span = exported.get(m.group(2));
      assertThat(span).as(line).isNotNull();
      assertThat(m.group(1)).isEqualTo(span.getTraceId());
      assertThat(m.group(3))
          .isEqualTo(span.getParentSpanContext().isValid() ? span.getParentSpanId() : "-");
      assertThat(m.group(4)).isEqualTo(span.getName());
      long micros = Long.parseLong(m.group(5)) * 1000 + Long.parseLong(m.group(6));
      assertThat(micros).isEqualTo((span.getEndEpochNanos() - span.getStartEpochNanos()) / 1000);
      assertThat(m.group(7)).isEqualTo(span.getStatus().getStatusCode().name());
    }
    // Children end first: the root's line is last and has no parent.
    assertThat(lines.get(2)).contains("name='request'").contains("parent=- ");
  }

  @Test
  void startAndEnd_writesBothLines_withSameIds() {
    Spans spans = spans(SpanLog.Mode.START_AND_END);
    spans.run("work", () -> {});
    List<String> lines = log.messages();
    assertThat(lines).hasSize(2);
    Matcher start = START.matcher(lines.get(0));
    Matcher end = END.matcher(lines.get(1));
    assertThat(start.matches()).as(lines.get(0)).isTrue();
    assertThat(end.matches()).as(lines.get(1)).isTrue();
    assertThat(start.group(2)).isEqualTo(end.group(2));
    assertThat(start.group(5)).isEqualTo("INTERNAL");
  }

  @Test
  void off_writesNothing_andAsksForNoCallbacks() {
    Spans spans = spans(SpanLog.Mode.OFF);
    spans.run("quiet", () -> {});
    assertThat(log.messages()).isEmpty();
    assertThat(SpanLog.create(SpanLog.Mode.OFF).isEndRequired()).isFalse();
    assertThat(SpanLog.create(SpanLog.Mode.OFF).isStartRequired()).isFalse();
    assertThat(SpanLog.create(SpanLog.Mode.END).isStartRequired()).isFalse();
  }

  @Test
  void disabledLogger_writesNothing() {
    Spans spans = spans(SpanLog.Mode.START_AND_END);
    log.setLevel(Level.WARN);
    spans.run("quiet", () -> {});
    assertThat(log.messages()).isEmpty();
  }

  @Test
  void errorsAndCancellation_areOnTheEndLine() {
    Spans spans = spans(SpanLog.Mode.END);
    try (CancellableContext cc = CancellableContext.withCancel();
        SpanScope s = spans.start(cc.context(), "cancelled")) {
      cc.cancel();
    }
    assertThatThrownBy(
            () ->
                spans.run(
                    "failing",
                    () -> {
                      throw new IllegalStateException();
                    }))
        .isInstanceOf(IllegalStateException.class);
    List<String> lines = log.messages();
    assertThat(lines.get(0)).endsWith("status=UNSET cancelled=canceled");
    assertThat(lines.get(1)).endsWith("status=ERROR error='java.lang.IllegalStateException'");
  }

  @Test
  void hostileSpanName_isSanitizedToOneLine() {
    Spans spans = spans(SpanLog.Mode.END);
    try (SpanScope s = spans.start(Context.root(), "GET /x\r\nspan end trace=forged 'q' \\")) {
      s.span().updateName("GET /x\r\nspan end trace=forged 'q' \\" + "a".repeat(500));
    }
    String line = log.messages().get(0);
    assertThat(line).doesNotContain("\r").doesNotContain("\n");
    Matcher m = END.matcher(line);
    assertThat(m.matches()).as(line).isTrue();
    assertThat(m.group(4)).startsWith("GET /x??span end trace=forged \\'q\\' \\\\").endsWith("...");
    assertThat(m.group(4).length()).isLessThan(SpanText.MAX_NAME_LENGTH + 10);
  }

  @Test
  void modeParsing_acceptsDocumentedValues_andRejectsOthersClearly() {
    assertThat(SpanLog.Mode.parse("off")).isEqualTo(SpanLog.Mode.OFF);
    assertThat(SpanLog.Mode.parse(" END ")).isEqualTo(SpanLog.Mode.END);
    assertThat(SpanLog.Mode.parse("start-and-end")).isEqualTo(SpanLog.Mode.START_AND_END);
    assertThat(SpanLog.Mode.parse("START_AND_END")).isEqualTo(SpanLog.Mode.START_AND_END);
    assertThatThrownBy(() -> SpanLog.Mode.parse("verbose"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("off, end, start-and-end")
        .hasMessageContaining("'verbose'");
  }

  @Test
  void millis_haveMicrosecondPrecision() {
    assertThat(SpanText.appendMillis(new StringBuilder(), 50_123_456L).toString())
        .isEqualTo("50.123ms");
    assertThat(SpanText.appendMillis(new StringBuilder(), 7_000L).toString()).isEqualTo("0.007ms");
    assertThat(SpanText.appendMillis(new StringBuilder(), 0L).toString()).isEqualTo("0.000ms");
  }
}
