package io.tracelet.servlet.internal.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.TraceState;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.Context;
import io.tracelet.DeadlineHeader;
import io.tracelet.RequestId;
import io.tracelet.servlet.internal.propagation.FuzzHeaders;
import io.tracelet.servlet.internal.propagation.IncomingGetter;
import io.tracelet.servlet.internal.propagation.TraceStateCodec;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Fuzzes each header parser on its own, against an independent oracle where the grammar is small
 * enough to write as a regular expression. Inputs are decoded by {@link FuzzHeaders}: for the
 * single-value parsers, each header line's value is one input.
 */
class HeaderParsersFuzzTest {

  // The tracestate grammar of W3C Trace Context Level 2, written out independently of
  // TraceStateCodec: key = ( lcalpha / DIGIT ) 0*255 ( lcalpha / DIGIT / "_" / "-" / "*" / "/" /
  // "@" ).
  private static final Pattern TRACESTATE_KEY = Pattern.compile("[a-z0-9][a-z0-9_\\-*/@]{0,255}");
  // The keys OpenTelemetry Java 1.67 accepts: Level 1's tenant@system form, though without asking
  // the system ID to start with a letter. One other key and its propagator drops the tracestate.
  private static final Pattern OTEL_TRACESTATE_KEY =
      Pattern.compile("[a-z][a-z0-9_*/-]{0,255}|[a-z0-9][a-z0-9_*/-]{0,240}@[a-z0-9_*/-]{1,14}");
  private static final Pattern TRACESTATE_VALUE =
      Pattern.compile(
          "[\\x20-\\x2B\\x2D-\\x3C\\x3E-\\x7E]{0,255}[\\x21-\\x2B\\x2D-\\x3C\\x3E-\\x7E]");
  private static final String TRACEPARENT =
      "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

  /**
   * {@link TraceStateCodec#normalize}: the result is null or a list of at most 32 valid members
   * with distinct keys, normalizing it again changes nothing, OpenTelemetry's own parser keeps
   * every member unless a key is one only Level 2 allows, and {@link TraceStateCodec#truncate}
   * bounds it to whole entries within 512 characters.
   */
  @FuzzTest
  void traceState(byte[] data) {
    List<String> values = FuzzHeaders.decode(data).allValues();
    String normalized = TraceStateCodec.normalize(values);
    if (normalized == null) {
      return;
    }
    String[] members = normalized.split(",", -1);
    assertThat(members.length).isBetween(1, TraceStateCodec.MAX_MEMBERS);
    Set<String> keys = new HashSet<>();
    boolean otelKeys = true;
    for (String member : members) {
      int eq = member.indexOf('=');
      assertThat(eq).as(member).isPositive();
      String key = member.substring(0, eq);
      assertThat(key).matches(TRACESTATE_KEY);
      assertThat(member.substring(eq + 1)).matches(TRACESTATE_VALUE);
      assertThat(keys.add(key)).as("duplicate key %s", key).isTrue();
      otelKeys &= OTEL_TRACESTATE_KEY.matcher(key).matches();
    }
    assertThat(TraceStateCodec.normalize(List.of(normalized))).isEqualTo(normalized);

    // What we hand OpenTelemetry must survive its parser whole, or our normalizing was for nothing;
    // the one exception is a key only Level 2 allows, for which it drops it all (TraceStateCodec).
    FuzzHeaders carrier =
        FuzzHeaders.of(Map.of("traceparent", TRACEPARENT, "tracestate", normalized));
    Context ctx =
        W3CTraceContextPropagator.getInstance()
            .extract(Context.root(), carrier, IncomingGetter.INSTANCE);
    TraceState parsed = Span.fromContext(ctx).getSpanContext().getTraceState();
    List<String> kept = new ArrayList<>();
    parsed.forEach((k, v) -> kept.add(k + "=" + v));
    assertThat(kept).as(normalized).isEqualTo(otelKeys ? List.of(members) : List.of());

    String truncated = TraceStateCodec.truncate(normalized);
    if (normalized.length() <= TraceStateCodec.MAX_OUTBOUND_LENGTH) {
      assertThat(truncated).isEqualTo(normalized);
    } else if (truncated != null) {
      assertThat(truncated.length()).isLessThanOrEqualTo(TraceStateCodec.MAX_OUTBOUND_LENGTH);
      assertThat(List.of(members)).containsSubsequence(List.of(truncated.split(",", -1)));
    }
  }

  /**
   * {@link TraceStateCodec#isValidKey} against the Level 2 key grammar as a regular expression,
   * each input value being one candidate key; a member with a valid key and value comes out of
   * {@link TraceStateCodec#normalize} unchanged, and a single member with an invalid key drops the
   * tracestate.
   */
  @FuzzTest
  void traceStateKey(byte[] data) {
    for (String s : FuzzHeaders.decode(data).allValues()) {
      boolean valid = TRACESTATE_KEY.matcher(s).matches();
      assertThat(TraceStateCodec.isValidKey(s)).as(s).isEqualTo(valid);
      if (valid) {
        assertThat(TraceStateCodec.normalize(List.of(s + "=v"))).isEqualTo(s + "=v");
      }
      // The input as a whole member: after the first "=" comes the value, which may hold anything.
      int eq = s.indexOf('=');
      if (eq <= 0 || s.indexOf(',') >= 0 || !s.equals(TraceStateCodec.trimOws(s))) {
        continue;
      }
      String key = s.substring(0, eq);
      String value = s.substring(eq + 1);
      if (!TRACESTATE_KEY.matcher(key).matches()) {
        assertThat(TraceStateCodec.normalize(List.of(s))).as(s).isNull();
      } else if (TRACESTATE_VALUE.matcher(value).matches()) {
        assertThat(TraceStateCodec.normalize(List.of(s))).as(s).isEqualTo(s);
      }
    }
  }

  /**
   * {@link IncomingGetter}: never throws for any header, one {@code traceparent} only and without a
   * comma, values trimmed of optional whitespace, baggage within the W3C limits or dropped whole.
   */
  @FuzzTest
  void incomingGetter(byte[] data) {
    FuzzHeaders h = FuzzHeaders.decode(data);
    Set<String> names = new HashSet<>();
    h.names().forEach(n -> names.add(n));
    names.add("traceparent");
    names.add("tracestate");
    names.add("baggage");
    for (String name : names) {
      String one = IncomingGetter.INSTANCE.get(h, name);
      List<String> all = new ArrayList<>();
      Iterator<String> it = IncomingGetter.INSTANCE.getAll(h, name);
      it.forEachRemaining(all::add);
      List<String> raw = h.values(name);
      if (raw.isEmpty()) {
        assertThat(one).isNull();
        assertThat(all).isEmpty();
        continue;
      }
      // Baggage may keep a space after a comma where a member was left out; OpenTelemetry trims
      // list members itself (W3C baggage allows OWS around them).
      if (one != null && !name.equalsIgnoreCase("baggage")) {
        assertThat(one).isEqualTo(TraceStateCodec.trimOws(one));
      }
      switch (name.toLowerCase(java.util.Locale.ROOT)) {
        case "traceparent" -> {
          if (raw.size() > 1) {
            assertThat(one).isNull();
          }
          if (one != null) {
            assertThat(one).doesNotContain(",");
          }
        }
        case "baggage" -> {
          int bytes = 0;
          int members = 0;
          for (String v : all) {
            bytes += v.length();
            for (String m : v.split(",", -1)) {
              members += m.isBlank() ? 0 : 1;
            }
          }
          assertThat(bytes).isLessThanOrEqualTo(IncomingGetter.MAX_BAGGAGE_BYTES);
          assertThat(members).isLessThanOrEqualTo(IncomingGetter.MAX_BAGGAGE_MEMBERS);
          int rawBytes = 0;
          for (String v : raw) {
            rawBytes += TraceStateCodec.trimOws(v).length();
          }
          if (rawBytes > IncomingGetter.MAX_BAGGAGE_BYTES) {
            assertThat(all).isEmpty();
          }
        }
        default -> {}
      }
    }
  }

  /** {@link RequestId#parseOrGenerate}: the input itself when valid, else a fresh 32-hex ID. */
  @FuzzTest
  void requestId(byte[] data) {
    for (String v : FuzzHeaders.decode(data).allValues()) {
      ServerTracingFuzzTest.assertRequestId(v, RequestId.parseOrGenerate(v));
    }
    ServerTracingFuzzTest.assertRequestId(null, RequestId.parseOrGenerate(null));
  }

  /**
   * {@link DeadlineHeader#parseMillis} against its grammar, and a parsed value formats back to the
   * same number of milliseconds.
   */
  @FuzzTest
  void deadlineHeader(byte[] data) {
    for (String v : FuzzHeaders.decode(data).allValues()) {
      long millis = DeadlineHeader.parseMillis(v);
      assertThat(millis).as(v).isEqualTo(ServerTracingFuzzTest.expectedMillis(v));
      if (millis > 0) {
        assertThat(DeadlineHeader.format(millis * 1_000_000L)).isEqualTo(Long.toString(millis));
      }
    }
  }

  /**
   * The Go middleware's {@code X-Trace-ID}: a remote sampled parent with that trace ID and a fresh
   * span ID when it is 32 lowercase hex (not all zeros), else nothing.
   */
  @FuzzTest
  void traceIdHeader(byte[] data) {
    for (String v : FuzzHeaders.decode(data).allValues()) {
      SpanContext sc = ServerTracing.fromTraceIdHeader(v);
      ServerTracingFuzzTest.assertWholeOrInvalid(sc);
      String trimmed = TraceStateCodec.trimOws(v);
      boolean valid =
          trimmed.matches("[0-9a-f]{32}") && !trimmed.equals("00000000000000000000000000000000");
      assertThat(sc.isValid()).as(v).isEqualTo(valid);
      if (valid) {
        assertThat(sc.getTraceId()).isEqualTo(trimmed);
        assertThat(sc.isRemote()).isTrue();
        assertThat(sc.isSampled()).isTrue();
      }
    }
  }
}
