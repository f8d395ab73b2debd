package io.tracelet.servlet.internal;

import io.opentelemetry.api.baggage.propagation.W3CBaggagePropagator;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.propagation.TextMapPropagator;
import io.opentelemetry.extension.trace.propagation.B3Propagator;
import io.opentelemetry.extension.trace.propagation.JaegerPropagator;
import io.opentelemetry.extension.trace.propagation.OtTracePropagator;
import io.tracelet.servlet.TracingConfig.Setting;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Parses setting values; every failure names the setting, the source and what is accepted. */
public final class SettingParsers {

  private static final Pattern SHORT_DURATION = Pattern.compile("(\\d{1,12})(ms|s|m|h)");
  private static final Pattern TOKEN = Pattern.compile("[!#$%&'*+.^_`|~0-9A-Za-z-]{1,64}");

  private SettingParsers() {}

  /**
   * Checks {@code value} for {@code setting}.
   *
   * @throws IllegalArgumentException with a message saying what to change
   */
  public static void validate(Setting setting, String value, String source) {
    switch (setting) {
      case TRUST_INCOMING,
          RESPONSE_REQUEST_ID,
          RESPONSE_TRACERESPONSE,
          RESPONSE_TRACE_ID,
          RESPONSE_SERVER_TIMING,
          DETECT_DISCONNECT ->
          parseBoolean(setting, value, source);
      case REQUEST_TIMEOUT -> parseOptionalDuration(setting, value, source);
      case MAX_INCOMING_TIMEOUT -> parseDuration(setting, value, source);
      case REQUEST_ID_HEADER -> parseHeaderName(setting, value, source, false);
      case DEADLINE_HEADER -> parseHeaderName(setting, value, source, true);
      case EXCLUDED_PATHS -> PathGlobs.parse(list(value), setting, source);
      case REDACT_QUERY_PARAMS, BAGGAGE_ALLOW_LIST -> list(value);
      case PROPAGATORS -> parsePropagators(setting, value, source);
    }
  }

  static IllegalArgumentException invalid(
      Setting setting, String value, String source, String accepted) {
    return new IllegalArgumentException(
        "Tracelet setting '"
            + setting.key()
            + "' (from "
            + source
            + ") has the invalid value \""
            + printable(value)
            + "\"; accepted: "
            + accepted);
  }

  private static String printable(String value) {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < value.length() && i < 80; i++) {
      char c = value.charAt(i);
      sb.append(c >= 0x20 && c < 0x7f ? c : '?');
    }
    return sb.toString();
  }

  static boolean parseBoolean(Setting setting, String value, String source) {
    String v = value.trim().toLowerCase(Locale.ROOT);
    if (v.equals("true")) {
      return true;
    }
    if (v.equals("false")) {
      return false;
    }
    throw invalid(setting, value, source, "true or false");
  }

  /** A positive duration: ISO-8601 ({@code PT2S}) or a number with ms, s, m or h. */
  static Duration parseDuration(Setting setting, String value, String source) {
    String v = value.trim();
    Duration d = null;
    Matcher m = SHORT_DURATION.matcher(v);
    if (m.matches()) {
      long n = Long.parseLong(m.group(1));
      d =
          switch (m.group(2)) {
            case "ms" -> Duration.ofMillis(n);
            case "s" -> Duration.ofSeconds(n);
            case "m" -> Duration.ofMinutes(n);
            default -> Duration.ofHours(n);
          };
    } else if (v.startsWith("P") || v.startsWith("p")) {
      try {
        d = Duration.parse(v);
      } catch (DateTimeParseException e) {
        d = null;
      }
    }
    if (d == null || d.isNegative() || d.isZero()) {
      throw invalid(
          setting, value, source, "a positive duration such as 500ms, 2s, 1m, 1h or PT2.5S");
    }
    return d;
  }

  static Duration parseOptionalDuration(Setting setting, String value, String source) {
    if (value.trim().equalsIgnoreCase("none")) {
      return null;
    }
    try {
      return parseDuration(setting, value, source);
    } catch (IllegalArgumentException e) {
      throw invalid(
          setting,
          value,
          source,
          "none, or a positive duration such as 500ms, 2s, 1m, 1h or PT2.5S");
    }
  }

  static String parseHeaderName(Setting setting, String value, String source, boolean noneOk) {
    String v = value.trim();
    if (noneOk && v.equalsIgnoreCase("none")) {
      return null;
    }
    if (!TOKEN.matcher(v).matches()) {
      throw invalid(
          setting,
          value,
          source,
          "an HTTP header name (letters, digits and !#$%&'*+.^_`|~-, at most 64)"
              + (noneOk ? ", or none" : ""));
    }
    return v;
  }

  /** Splits a comma-separated list, trimming items and dropping empty ones. */
  static List<String> list(String value) {
    List<String> out = new ArrayList<>();
    for (String part : value.split(",")) {
      String p = part.trim();
      if (!p.isEmpty()) {
        out.add(p);
      }
    }
    return Collections.unmodifiableList(out);
  }

  /** The propagator for a list of names as in {@code OTEL_PROPAGATORS}; null when empty. */
  // Jaeger and OT propagators are deprecated upstream (1.67) but still shipped; Jaeger is required.
  @SuppressWarnings("deprecation")
  static TextMapPropagator parsePropagators(Setting setting, String value, String source) {
    List<String> names = list(value);
    if (names.isEmpty()) {
      return null;
    }
    List<TextMapPropagator> out = new ArrayList<>();
    for (String name : names) {
      switch (name.toLowerCase(Locale.ROOT)) {
        case "tracecontext" -> out.add(W3CTraceContextPropagator.getInstance());
        case "baggage" -> out.add(W3CBaggagePropagator.getInstance());
        case "b3" -> out.add(B3Propagator.injectingSingleHeader());
        case "b3multi" -> out.add(B3Propagator.injectingMultiHeaders());
        case "jaeger" -> out.add(JaegerPropagator.getInstance());
        case "ottrace" -> out.add(OtTracePropagator.getInstance());
        case "none" -> {}
        default ->
            throw invalid(
                setting,
                value,
                source,
                "a comma-separated list of tracecontext, baggage, b3, b3multi, jaeger, ottrace,"
                    + " none");
      }
    }
    // Each named propagator is a separate part, so the filter can isolate one that throws.
    return IsolatedPropagator.of(out, FilterMetrics.NOOP);
  }
}
