package io.tracelet.servlet.internal.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.TraceFlags;
import io.opentelemetry.api.trace.TraceState;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.propagation.TextMapPropagator;
import io.tracelet.CancellableContext;
import io.tracelet.RequestId;
import io.tracelet.servlet.TracingConfig;
import io.tracelet.servlet.internal.settings.Settings;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The filter writes its response headers without checking each value again per request; these are
 * the reasons that is safe: every value is built from a valid request ID or span context.
 */
class ResponseHeadersTest {

  @Test
  void everyAcceptedRequestId_isAValidHeaderValue() {
    String allAllowed = "AZaz09+/=._@:-";
    String longest = allAllowed.repeat(RequestId.MAX_LENGTH / allAllowed.length() + 1);
    longest = longest.substring(0, RequestId.MAX_LENGTH);
    RequestId accepted = RequestId.parseOrGenerate(longest);
    assertThat(accepted.isGenerated()).isFalse();
    assertThat(ResponseHeaders.isValidValue(accepted.value())).isTrue();
    assertThat(ResponseHeaders.isValidValue(RequestId.generate().value())).isTrue();
    // Anything with a space, a control character or beyond the length is replaced, never kept.
    for (String bad : new String[] {"a b", "a\r\nb", "a\tb", "é", longest + "x"}) {
      assertThat(RequestId.parseOrGenerate(bad).isGenerated()).as(bad).isTrue();
    }
  }

  @Test
  void everyHeaderWritten_isAValidHeaderValue() {
    Settings settings =
        Settings.resolve(
            TracingConfig.builder().responseTraceId(true).responseServerTiming(true).build(),
            n -> null,
            n -> null,
            n -> null);
    ServerTracing core =
        new ServerTracing(settings, OpenTelemetry.noop(), TextMapPropagator.noop());
    Span span =
        Span.wrap(
            SpanContext.create(
                "4bf92f3577b34da6a3ce929d0e0e4736",
                "00f067aa0ba902b7",
                TraceFlags.getSampled(),
                TraceState.getDefault()));
    ResponseHeaders out = new ResponseHeaders();
    core.writeResponseHeaders(
        new Exchange(
            CancellableContext.withCancel(Context.root()),
            span,
            true,
            RequestId.generate(),
            "GET",
            null,
            HttpServerMetrics.NOT_RECORDED,
            0L),
        out);
    assertThat(out.list())
        .extracting(Map.Entry::getKey)
        .containsExactly("X-Request-ID", "traceresponse", "X-Trace-ID", "Server-Timing");
    assertThat(out.list())
        .allSatisfy(h -> assertThat(ResponseHeaders.isValidValue(h.getValue())).isTrue());
    assertThat(out.list().get(1).getValue())
        .isEqualTo("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
  }
}
