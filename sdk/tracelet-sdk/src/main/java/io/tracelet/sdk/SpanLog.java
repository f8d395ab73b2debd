package io.tracelet.sdk;

import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.context.Context;
import io.opentelemetry.sdk.trace.ReadWriteSpan;
import io.opentelemetry.sdk.trace.ReadableSpan;
import io.opentelemetry.sdk.trace.SpanProcessor;
import io.opentelemetry.sdk.trace.data.StatusData;
import io.tracelet.trace.SpanScope;
import java.util.Locale;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An OpenTelemetry {@link SpanProcessor} that writes one greppable SLF4J line (level INFO, logger
 * {@value #LOGGER_NAME}) when a span starts and/or ends. It sees every span of the SDK, including
 * those of other instrumentation.
 *
 * <pre>
 * span start trace=4bf92f3577b34da6a3ce929d0e0e4736 span=00f067aa0ba902b7 parent=- name='GET /orders' kind=SERVER
 * span end trace=4bf92f3577b34da6a3ce929d0e0e4736 span=53995c3f42cd8ad8 parent=00f067aa0ba902b7 name='validateOrder' duration=50.123ms status=OK
 * </pre>
 *
 * <p>{@code parent=-} marks a root; an end line adds {@code cancelled=<cause>} when the span ended
 * in a cancelled context, and {@code error='<description>'} for an error status with a description.
 * Names are sanitized (no control characters, quotes escaped, at most {@value
 * SpanText#MAX_NAME_LENGTH} characters). When the logger is disabled for INFO, the cost is the
 * level check: no string is built.
 *
 * <pre>{@code
 * SdkTracerProvider.builder().addSpanProcessor(SpanLog.create(SpanLog.Mode.END)).build();
 * }</pre>
 */
public final class SpanLog implements SpanProcessor {

  /** The logger all lines go to; route or silence it in your logging configuration. */
  public static final String LOGGER_NAME = "io.tracelet.spans";

  /** Which span events produce a line. */
  public enum Mode {
    /** No lines at all; the processor asks the SDK for no callbacks. */
    OFF,
    /** A line when a span ends. */
    END,
    /** A line when a span starts and one when it ends. */
    START_AND_END;

    /**
     * Parses {@code off}, {@code end} or {@code start-and-end} (case-insensitive, {@code _} for
     * {@code -} accepted).
     *
     * @throws IllegalArgumentException naming the accepted values
     */
    public static Mode parse(String value) {
      if (value != null) {
        switch (value.trim().toLowerCase(Locale.ROOT).replace('_', '-')) {
          case "off":
            return OFF;
          case "end":
            return END;
          case "start-and-end":
            return START_AND_END;
          default:
            break;
        }
      }
      throw new IllegalArgumentException(
          "span log mode must be one of off, end, start-and-end; got '"
              + SpanText.sanitizeName(value)
              + "'");
    }
  }

  private final Mode mode;
  private final Logger logger;

  private SpanLog(Mode mode, Logger logger) {
    this.mode = mode;
    this.logger = logger;
  }

  /** A span log in {@code mode}, writing to the logger {@value #LOGGER_NAME}. */
  public static SpanLog create(Mode mode) {
    return new SpanLog(Objects.requireNonNull(mode, "mode"), LoggerFactory.getLogger(LOGGER_NAME));
  }

  /** The mode this log was created with. */
  public Mode mode() {
    return mode;
  }

  @Override
  public boolean isStartRequired() {
    return mode == Mode.START_AND_END;
  }

  @Override
  public void onStart(Context parentContext, ReadWriteSpan span) {
    if (!logger.isInfoEnabled()) {
      return;
    }
    StringBuilder line =
        SpanText.head("start", span.getSpanContext(), span.getParentSpanContext(), span.getName())
            .append(" kind=")
            .append(span.getKind());
    logger.info(line.toString());
  }

  @Override
  public boolean isEndRequired() {
    return mode != Mode.OFF;
  }

  @Override
  public void onEnd(ReadableSpan span) {
    if (!logger.isInfoEnabled()) {
      return;
    }
    StringBuilder line =
        SpanText.head("end", span.getSpanContext(), span.getParentSpanContext(), span.getName())
            .append(" duration=");
    SpanText.appendMillis(line, span.getLatencyNanos());
    // ReadableSpan has no status accessor; the copy is paid only when the line is written.
    StatusData status = span.toSpanData().getStatus();
    line.append(" status=").append(status.getStatusCode());
    String cancelCause = span.getAttribute(SpanScope.CANCEL_CAUSE);
    if (cancelCause != null) {
      line.append(" cancelled=").append(SpanText.sanitizeName(cancelCause));
    }
    if (status.getStatusCode() == StatusCode.ERROR && !status.getDescription().isEmpty()) {
      line.append(" error='").append(SpanText.sanitizeName(status.getDescription())).append('\'');
    }
    logger.info(line.toString());
  }
}
