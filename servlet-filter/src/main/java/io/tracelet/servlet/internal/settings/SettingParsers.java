package io.tracelet.servlet.internal.settings;

import io.opentelemetry.api.baggage.propagation.W3CBaggagePropagator;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.propagation.TextMapPropagator;
import io.opentelemetry.extension.trace.propagation.B3Propagator;
import io.opentelemetry.extension.trace.propagation.JaegerPropagator;
import io.opentelemetry.extension.trace.propagation.OtTracePropagator;
import io.tracelet.servlet.internal.propagation.IsolatedPropagator;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Parses setting values; every failure names the setting, the source and what is accepted. */
public final class SettingParsers {

  private static final Pattern SHORT_DURATION = Pattern.compile("(\\d{1,12})(ms|s|m|h)");
  private static final Pattern TOKEN = Pattern.compile("[!#$%&'*+.^_`|~0-9A-Za-z-]{1,64}");

  private SettingParsers() {}

  /**
   * Parses one setting's text into its type. Each {@code TracingConfig.Setting} owns one; a failure
   * throws an {@link IllegalArgumentException} that names the setting, where the value came from
   * and what is accepted.
   */
  @FunctionalInterface
  public interface Parser {
    /** The value of the setting {@code key}, read from {@code source}, in its type. */
    Object parse(String key, String value, String source);
  }

  /** {@code true} or {@code false}, as a {@link Boolean}. */
  public static final Parser BOOLEAN = SettingParsers::parseBoolean;

  /** A positive {@link Duration}. */
  public static final Parser DURATION = SettingParsers::parseDuration;

  /** {@code none} (null) or a positive {@link Duration}. */
  public static final Parser OPTIONAL_DURATION = SettingParsers::parseOptionalDuration;

  /** An HTTP header name. */
  public static final Parser HEADER_NAME =
      (key, value, source) -> parseHeaderName(key, value, source, false);

  /** {@code none} (null) or an HTTP header name. */
  public static final Parser OPTIONAL_HEADER_NAME =
      (key, value, source) -> parseHeaderName(key, value, source, true);

  /** Comma-separated path globs, as {@link PathGlobs}. */
  public static final Parser PATH_GLOBS =
      (key, value, source) -> PathGlobs.parse(list(value), key, source);

  /** A comma-separated list, as an unmodifiable {@code List<String>}. */
  public static final Parser LIST = (key, value, source) -> list(value);

  /**
   * Comma-separated names matched ignoring case, as an unmodifiable lower-case {@code Set<String>}.
   */
  public static final Parser LOWER_CASE_SET =
      (key, value, source) -> {
        Set<String> out = new TreeSet<>();
        for (String name : list(value)) {
          out.add(name.toLowerCase(Locale.ROOT));
        }
        return Collections.unmodifiableSet(out);
      };

  /**
   * Propagator names as in {@code OTEL_PROPAGATORS}, as a {@link TextMapPropagator} (null when
   * empty).
   */
  public static final Parser PROPAGATORS = SettingParsers::parsePropagators;

  static IllegalArgumentException invalid(
      String setting, String value, String source, String accepted) {
    return new IllegalArgumentException(
        "Tracelet setting '"
            + setting
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

  public static boolean parseBoolean(String setting, String value, String source) {
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
  public static Duration parseDuration(String setting, String value, String source) {
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

  public static Duration parseOptionalDuration(String setting, String value, String source) {
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

  public static String parseHeaderName(
      String setting, String value, String source, boolean noneOk) {
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
  public static List<String> list(String value) {
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
  public static TextMapPropagator parsePropagators(String setting, String value, String source) {
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
    return IsolatedPropagator.of(out, IsolatedPropagator.FailureCounter.NONE);
  }
}
