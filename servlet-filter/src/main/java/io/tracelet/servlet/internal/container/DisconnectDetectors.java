package io.tracelet.servlet.internal.container;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Chooses the container's {@link DisconnectDetector}, once, when a filter starts. */
public final class DisconnectDetectors {

  private static final String JETTY_REQUEST = "org.eclipse.jetty.server.Request";
  private static final String JETTY_DETECTOR = "io.tracelet.servlet.jetty.JettyDisconnectDetector";

  // Logged under the filter's name, the logger users know.
  private static final Logger log = LoggerFactory.getLogger("io.tracelet.servlet.TracingFilter");

  private DisconnectDetectors() {}

  /**
   * The Jetty adapter when Jetty's server classes and the adapter are both loadable; elsewhere
   * nothing detects a client that leaves (deadlines still cancel everywhere). Loaded by name so
   * that no Jetty class is touched on other containers.
   */
  public static DisconnectDetector forContainer(ClassLoader loader) {
    try {
      Class.forName(JETTY_REQUEST, false, loader);
      Class<?> type = Class.forName(JETTY_DETECTOR, true, loader);
      return (DisconnectDetector) type.getConstructor().newInstance();
    } catch (ClassNotFoundException | LinkageError e) {
      return DisconnectDetector.NONE;
    } catch (ReflectiveOperationException | RuntimeException e) {
      log.warn("Tracelet: the Jetty disconnect detector could not be created", e);
      return DisconnectDetector.NONE;
    }
  }
}
