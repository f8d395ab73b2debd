package io.tracelet.servlet.internal.container;

/**
 * What the servlet API answers for a request's {@code getRemoteAddr}, {@code getServerName} and
 * {@code getServerPort}, as a container adapter keeps it for the requests of one connection that
 * give the same answers (Jetty formats the address and the authority anew on every call).
 * Immutable, so that requests on other threads may share it.
 */
public final class RequestFacts {
  private final String clientAddress;
  private final String serverName;
  private final int serverPort;

  public RequestFacts(String clientAddress, String serverName, int serverPort) {
    this.clientAddress = clientAddress;
    this.serverName = serverName;
    this.serverPort = serverPort;
  }

  /** {@code getRemoteAddr()}. */
  public String clientAddress() {
    return clientAddress;
  }

  /** {@code getServerName()}. */
  public String serverName() {
    return serverName;
  }

  /** {@code getServerPort()}. */
  public int serverPort() {
    return serverPort;
  }
}
