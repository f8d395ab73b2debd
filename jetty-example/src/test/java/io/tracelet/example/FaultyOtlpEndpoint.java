package io.tracelet.example;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.eclipse.jetty.http2.server.HTTP2CServerConnectionFactory;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.Callback;

/**
 * A misbehaving OTLP endpoint on 127.0.0.1, on a real socket: nothing listening, a listener that
 * accepts connections and never answers, or a Jetty answering every request with one HTTP status
 * (over HTTP/1.1 for http/protobuf and h2c for gRPC).
 */
abstract class FaultyOtlpEndpoint implements AutoCloseable {

  /** How many connections or requests reached the endpoint. */
  final AtomicInteger hits = new AtomicInteger();

  abstract int port();

  String url() {
    return "http://127.0.0.1:" + port();
  }

  @Override
  public abstract void close() throws Exception;

  /** A port that was free a moment ago and is closed now: connections are refused. */
  static FaultyOtlpEndpoint closedPort() throws IOException {
    int port;
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      port = socket.getLocalPort();
    }
    return new FaultyOtlpEndpoint() {
      @Override
      int port() {
        return port;
      }

      @Override
      public void close() {}
    };
  }

  /** Accepts every connection and holds it open without reading or writing a byte. */
  static FaultyOtlpEndpoint silent() throws IOException {
    ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    List<Socket> held = new CopyOnWriteArrayList<>();
    FaultyOtlpEndpoint endpoint =
        new FaultyOtlpEndpoint() {
          @Override
          int port() {
            return server.getLocalPort();
          }

          @Override
          public void close() throws IOException {
            server.close();
            for (Socket s : held) {
              s.close();
            }
          }
        };
    Thread acceptor =
        new Thread(
            () -> {
              try {
                while (true) {
                  held.add(server.accept());
                  endpoint.hits.incrementAndGet();
                }
              } catch (IOException closed) {
                // close() was called
              }
            },
            "silent-otlp-endpoint");
    acceptor.setDaemon(true);
    acceptor.start();
    return endpoint;
  }

  /**
   * Answers every request with {@code status} and an empty body (for 200 that is a valid, empty
   * OTLP/HTTP response: nothing rejected).
   */
  static FaultyOtlpEndpoint answering(int status) throws Exception {
    Server server = new Server();
    HttpConfiguration config = new HttpConfiguration();
    ServerConnector connector =
        new ServerConnector(
            server, new HttpConnectionFactory(config), new HTTP2CServerConnectionFactory(config));
    connector.setHost("127.0.0.1");
    connector.setPort(0);
    server.addConnector(connector);
    FaultyOtlpEndpoint endpoint =
        new FaultyOtlpEndpoint() {
          @Override
          int port() {
            return connector.getLocalPort();
          }

          @Override
          public void close() throws Exception {
            server.stop();
          }
        };
    server.setHandler(
        new Handler.Abstract() {
          @Override
          public boolean handle(Request request, Response response, Callback callback) {
            endpoint.hits.incrementAndGet();
            response.setStatus(status);
            response.getHeaders().put("Content-Type", "application/x-protobuf");
            if (status == 429 || status == 503) {
              response.getHeaders().put("Retry-After", "1");
            }
            response.write(true, null, callback);
            return true;
          }
        });
    server.start();
    return endpoint;
  }
}
