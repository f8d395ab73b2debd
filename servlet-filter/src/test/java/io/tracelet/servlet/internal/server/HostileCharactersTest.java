package io.tracelet.servlet.internal.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.opentelemetry.api.baggage.Baggage;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.tracelet.Cancellation;
import io.tracelet.RequestId;
import io.tracelet.servlet.TestSdks;
import io.tracelet.servlet.TracingConfig;
import io.tracelet.servlet.internal.propagation.IncomingGetter;
import io.tracelet.servlet.internal.propagation.TestHeaders;
import io.tracelet.servlet.internal.propagation.TraceStateCodec;
import io.tracelet.servlet.internal.settings.SettingParsers;
import io.tracelet.servlet.internal.settings.Settings;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The control and Unicode characters of issue 7 handed straight to the parsers, as Java chars: this
 * covers what Jetty refuses before a filter runs (NUL, CR, LF, ESC, DEL) and what another container
 * might pass on. Every header the core reads is tried with every character; each is invalid there
 * and nothing throws.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class HostileCharactersTest {

  static final String T = "0af7651916cd43dd8448eb211c80319c";
  static final String P = "b7ad6b7169203331";
  static final String TP = "00-" + T + "-" + P + "-01";
  static final String B3_TRACE = "463ac35c9f6413ad48485a3953bb6124";

  static final char[] CHARACTERS = {
    '\u0000', '\t', '\r', '\n', '\u001b', '\u007f', '\u0080', '\u0085', '\u00a0', '\u00e9',
    '\u00ff', '\u2028', '\ufffe', '\uffff'
  };

  static final Map<String, String> HEADERS =
      Map.of(
          "traceparent", "00-" + T.substring(0, 16) + "%s" + T.substring(16) + "-" + P + "-01",
          "tracestate", "a=1%s2",
          "baggage", "k=v%sw",
          "X-Request-ID", "abc%sdef",
          "X-Trace-ID", T.substring(0, 16) + "%s" + T.substring(16),
          "b3", B3_TRACE + "%s-0020000000000001-1",
          "X-Request-Timeout-Ms", "10%s00");

  final InMemorySpanExporter exporter = InMemorySpanExporter.create();
  final OpenTelemetrySdk otel = TestSdks.recordingInto(exporter);
  final ServerTracing core =
      new ServerTracing(
          Settings.resolve(
              TracingConfig.builder().propagators("tracecontext,baggage,b3").build(),
              k -> null,
              k -> null,
              k -> null),
          otel,
          SettingParsers.parsePropagators("propagators", "tracecontext,baggage,b3", "test"));

  @AfterAll
  void close() {
    otel.close();
  }

  static Stream<Arguments> matrix() {
    List<Arguments> out = new ArrayList<>();
    for (String header : HEADERS.keySet()) {
      for (char c : CHARACTERS) {
        out.add(Arguments.of(header, String.format("U+%04X", (int) c), c));
      }
    }
    return out.stream();
  }

  @ParameterizedTest(name = "{0} with {1}")
  @MethodSource("matrix")
  void everyHeaderWeRead_withEveryCharacter_isInvalid_neverThrows(
      String header, String label, char c) {
    String value = HEADERS.get(header).replace("%s", String.valueOf(c));
    TestHeaders headers =
        header.equals("tracestate")
            ? TestHeaders.of("traceparent", TP, header, value)
            : TestHeaders.of(header, value);
    Exchange ex = core.start(RequestInfo.get("/a").with(headers), null);
    try {
      SpanContext parent = Span.fromContext(ex.context()).getSpanContext();
      switch (header) {
        case "traceparent", "X-Trace-ID" -> assertThat(parent.getTraceId()).isNotEqualTo(T);
        case "b3" -> assertThat(parent.getTraceId()).isNotEqualTo(B3_TRACE);
        case "tracestate" -> {
          assertThat(parent.getTraceId()).isEqualTo(T);
          assertThat(parent.getTraceState().isEmpty()).isTrue();
        }
        case "baggage" -> assertThat(Baggage.fromContext(ex.context()).isEmpty()).isTrue();
        case "X-Request-ID" -> assertThat(ex.requestId().isGenerated()).isTrue();
        case "X-Request-Timeout-Ms" ->
            assertThat(Cancellation.fromContext(ex.context()).timeRemaining()).isEmpty();
        default -> throw new AssertionError(header);
      }
      for (Map.Entry<String, String> h : ResponseHeaders.of(core, ex).list()) {
        assertThat(h.getValue()).matches("^[\\x21-\\x7E]+$");
      }
    } finally {
      core.end(ex, 200, null, true, null);
    }
  }

  @Test
  void forgedLogLineAndAnsiEscapes_inRequestId_areReplaced() {
    for (String hostile :
        List.of(
            "abc\r\nERROR forged",
            "abc\nERROR forged",
            "\u001b[31mERROR forged\u001b[0m",
            "abc\u2028ERROR forged")) {
      Exchange ex =
          core.start(RequestInfo.get("/a").with(TestHeaders.of("X-Request-ID", hostile)), null);
      try {
        RequestId id = RequestId.fromContext(ex.context());
        assertThat(id.isGenerated()).isTrue();
        assertThat(id.value()).matches("[0-9a-f]{32}");
      } finally {
        core.end(ex, 200, null, true, null);
      }
    }
  }

  @Test
  void parsersAlone_rejectEveryCharacter() {
    for (char c : CHARACTERS) {
      String s = String.valueOf(c);
      assertThat(TraceStateCodec.normalize(List.of("a=1" + s + "2"))).isNull();
      assertThat(TraceStateCodec.normalize(List.of("a" + s + "b=1"))).isNull();
      assertThat(RequestId.isValid("a" + s + "b")).isFalse();
      assertThat(ServerTracing.fromTraceIdHeader(T.substring(0, 16) + s + T.substring(16)))
          .isEqualTo(SpanContext.getInvalid());
      if (c != '\t') {
        // TAB is the one allowed inside a baggage member (optional whitespace).
        assertThat(IncomingGetter.withoutUnsafeMembers("k=v" + s + "w,ok=1")).isEqualTo("ok=1");
      }
    }
  }
}
