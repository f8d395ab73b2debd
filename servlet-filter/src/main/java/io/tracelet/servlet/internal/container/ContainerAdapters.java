package io.tracelet.servlet.internal.container;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Chooses the container's adapters ({@link DisconnectDetector}, {@link ContainerHeaders}), once,
 * when a filter starts. They are loaded by name so that no Jetty class is touched on other
 * containers.
 */
public final class ContainerAdapters {

  private static final String JETTY_REQUEST = "org.eclipse.jetty.server.Request";
  private static final String JETTY_DETECTOR = "io.tracelet.servlet.jetty.JettyDisconnectDetector";
  private static final String JETTY_HEADERS = "io.tracelet.servlet.jetty.JettyHeaders";

  // Logged under the filter's name, the logger users know.
  private static final Logger log = LoggerFactory.getLogger("io.tracelet.servlet.TracingFilter");

  private ContainerAdapters() {}

  /**
   * The Jetty adapter when Jetty's server classes and the adapter are both loadable; elsewhere
   * nothing detects a client that leaves (deadlines still cancel everywhere).
   */
  public static DisconnectDetector disconnectDetector(ClassLoader loader) {
    return load(loader, JETTY_DETECTOR, DisconnectDetector.class, DisconnectDetector.NONE);
  }

  /**
   * Jetty's header access when Jetty's classes and the adapter are loadable; elsewhere the servlet
   * API.
   */
  public static ContainerHeaders headers(ClassLoader loader) {
    return load(loader, JETTY_HEADERS, ContainerHeaders.class, ContainerHeaders.SERVLET_API);
  }

  private static <T> T load(ClassLoader loader, String adapter, Class<T> type, T none) {
    try {
      Class.forName(JETTY_REQUEST, false, loader);
      Class<?> found = Class.forName(adapter, true, loader);
      return type.cast(found.getConstructor().newInstance());
    } catch (ClassNotFoundException | LinkageError e) {
      return none;
    } catch (ReflectiveOperationException | RuntimeException e) {
      log.warn("Tracelet: the Jetty adapter {} could not be created", adapter, e);
      return none;
    }
  }
}
