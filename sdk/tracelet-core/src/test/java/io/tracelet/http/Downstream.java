package io.tracelet.http;

import java.net.URI;
import java.net.http.HttpHeaders;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.eclipse.jetty.http.HttpField;
import org.eclipse.jetty.io.Connection;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.Callback;

/**
 * A real downstream service on 127.0.0.1: an embedded Jetty that records what it receives. {@code
 * /ok} answers at once, {@code /status/N} answers N, {@code /slow} waits until {@link #release()}.
 */
final class Downstream implements AutoCloseable {

  final AtomicInteger requests = new AtomicInteger();
  final List<HttpHeaders> received = new CopyOnWriteArrayList<>();
  final CountDownLatch slowEntered = new CountDownLatch(1);
  final AtomicInteger connectionsClosed = new AtomicInteger();
  private final CountDownLatch slowRelease = new CountDownLatch(1);
  private final Server server = new Server();
  private final ServerConnector connector = new ServerConnector(server);

  Downstream() throws Exception {
    connector.setHost("127.0.0.1");
    connector.setPort(0);
    connector.addEventListener(
        new Connection.Listener() {
          @Override
          public void onClosed(Connection connection) {
            connectionsClosed.incrementAndGet();
          }
        });
    server.addConnector(connector);
    server.setHandler(
        new Handler.Abstract() {
          @Override
          public boolean handle(Request request, Response response, Callback callback)
              throws Exception {
            requests.incrementAndGet();
            Map<String, List<String>> headers = new ConcurrentHashMap<>();
            for (HttpField f : request.getHeaders()) {
              headers
                  .computeIfAbsent(f.getName(), n -> new CopyOnWriteArrayList<>())
                  .add(f.getValue());
            }
            received.add(HttpHeaders.of(headers, (n, v) -> true));
            String path = Request.getPathInContext(request);
            int status = 200;
            if (path.equals("/slow")) {
              slowEntered.countDown();
              slowRelease.await(30, TimeUnit.SECONDS);
            } else if (path.startsWith("/status/")) {
              status = Integer.parseInt(path.substring("/status/".length()));
            }
            response.setStatus(status);
            Content.Sink.write(response, true, "ok", callback);
            return true;
          }
        });
    server.start();
  }

  URI uri(String path) {
    return URI.create("http://127.0.0.1:" + connector.getLocalPort() + path);
  }

  int port() {
    return connector.getLocalPort();
  }

  void release() {
    slowRelease.countDown();
  }

  HttpHeaders lastHeaders() {
    return received.get(received.size() - 1);
  }

  @Override
  public void close() throws Exception {
    release();
    server.stop();
  }
}
