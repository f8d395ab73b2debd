package io.tracelet.servlet;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.JsonEncoder;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.OutputStreamAppender;
import ch.qos.logback.core.read.ListAppender;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.opentelemetry.api.baggage.propagation.W3CBaggagePropagator;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * Hostile values never forge or break a log line: with logback's own {@link JsonEncoder} on the
 * root logger, hostile request IDs, baggage and a propagator failure whose exception quotes the
 * header produce lines that each parse as one JSON object, and no line of ours holds a raw
 * untrusted value.
 */
class LogSafetyTest {

  static final String MARK = "forged";

  @Test
  void hostileRequests_jsonLogLinesStillParse_andHoldNoRawUntrustedValue() throws Exception {
    LoggerContext ctx = (LoggerContext) LoggerFactory.getILoggerFactory();
    Logger root = ctx.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    JsonEncoder encoder = new JsonEncoder();
    encoder.setContext(ctx);
    encoder.start();
    OutputStreamAppender<ILoggingEvent> json = new OutputStreamAppender<>();
    json.setContext(ctx);
    json.setEncoder(encoder);
    json.setOutputStream(bytes);
    json.start();
    ListAppender<ILoggingEvent> events = new ListAppender<>();
    events.start();
    root.addAppender(json);
    root.addAppender(events);
    try (HostileServer s =
        HostileServer.start(
            b ->
                b.propagator(
                    new PropagatorFaultTest.FaultyPropagator("runtime"),
                    W3CTraceContextPropagator.getInstance(),
                    W3CBaggagePropagator.getInstance()))) {
      String[] values = {
        "abc\"}\n{\"level\":\"ERROR\",\"message\":\"" + MARK + "\"}",
        "abc\u2028ERROR " + MARK,
        "abc\u0085ERROR " + MARK,
        "\"},\"level\":\"ERROR " + MARK,
        "abc ERROR " + MARK + " [31m",
      };
      for (String v : values) {
        // LF is refused by Jetty (400): what is left of each value is sent as UTF-8 bytes.
        byte[] raw = v.replace("\n", " ").getBytes(StandardCharsets.UTF_8);
        for (String header : List.of("X-Request-ID", "x-faulty", "baggage", "traceparent")) {
          RawHttp.Response r = RawHttp.sendRawHeader(s.port(), "GET", "/echo", header, raw);
          assertThat(r.status()).isEqualTo(200);
        }
      }
    } finally {
      root.detachAppender(json);
      root.detachAppender(events);
      json.stop();
    }
    String out = bytes.toString(StandardCharsets.UTF_8);
    String[] lines = out.split("\n");
    assertThat(events.list).isNotEmpty();
    assertThat(lines).hasSize(events.list.size());
    ObjectMapper mapper = new ObjectMapper();
    int ours = 0;
    for (String line : lines) {
      JsonNode node = mapper.readTree(line);
      assertThat(node.isObject()).as(line).isTrue();
      assertThat(node.path("level").asText()).isNotEqualTo("ERROR");
      if (node.path("loggerName").asText().startsWith("io.tracelet")) {
        ours++;
        assertThat(line).doesNotContain(MARK);
      }
    }
    // The propagator failure was logged by us, once, without the header it quoted.
    assertThat(ours).isEqualTo(1);
  }
}
