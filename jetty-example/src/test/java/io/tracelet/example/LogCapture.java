package io.tracelet.example;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import org.slf4j.LoggerFactory;

/** Collects the formatted messages of one logger (and its children) while it is open. */
final class LogCapture extends AppenderBase<ILoggingEvent> implements AutoCloseable {

  private final Logger logger;
  private final List<String> lines = new CopyOnWriteArrayList<>();

  private LogCapture(Logger logger) {
    this.logger = logger;
  }

  static LogCapture of(String loggerName) {
    LogCapture capture = new LogCapture((Logger) LoggerFactory.getLogger(loggerName));
    capture.setName("capture-" + loggerName);
    capture.start();
    capture.logger.addAppender(capture);
    return capture;
  }

  @Override
  protected void append(ILoggingEvent event) {
    lines.add(event.getFormattedMessage());
  }

  List<String> lines() {
    return List.copyOf(lines);
  }

  List<String> linesContaining(String text) {
    return lines.stream().filter(l -> l.contains(text)).collect(Collectors.toList());
  }

  /** Waits until a line matches, at most {@code timeout}; returns it or null. */
  String await(Predicate<String> match, Duration timeout) throws InterruptedException {
    long end = System.nanoTime() + timeout.toNanos();
    while (true) {
      for (String line : lines) {
        if (match.test(line)) {
          return line;
        }
      }
      if (System.nanoTime() - end > 0) {
        return null;
      }
      Thread.sleep(10);
    }
  }

  @Override
  public void close() {
    logger.detachAppender(this);
    stop();
  }
}
