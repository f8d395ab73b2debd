package io.tracelet.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.data.SpanData;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Supplier;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;

/** Starts applications on a random loopback port and talks to them over real HTTP. */
public final class Apps {
  public static final HttpClient HTTP =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  private Apps() {}

  public static ConfigurableApplicationContext start(Class<?>[] sources, String... properties) {
    List<String> all = new ArrayList<>();
    all.add("server.port=0");
    all.add("server.address=127.0.0.1");
    all.add("spring.main.banner-mode=off");
    all.add("logging.level.root=WARN");
    all.add("logging.level.io.tracelet=INFO");
    all.addAll(List.of(properties));
    return new SpringApplicationBuilder(sources).properties(all.toArray(String[]::new)).run();
  }

  public static int port(ConfigurableApplicationContext app) {
    return Integer.parseInt(app.getEnvironment().getProperty("local.server.port"));
  }

  public static HttpResponse<String> get(
      ConfigurableApplicationContext app, String path, String... headers)
      throws IOException, InterruptedException {
    HttpRequest.Builder request =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port(app) + path))
            .timeout(Duration.ofSeconds(30));
    if (headers.length > 0) {
      request.headers(headers);
    }
    return HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
  }

  /** Polls until {@code condition} holds, for at most 10 s. */
  public static void await(String what, Supplier<Boolean> condition) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (!condition.get()) {
      assertThat(System.nanoTime() - deadline).as("waiting for %s", what).isNegative();
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5));
    }
  }

  /** Waits (bounded) for a SERVER span in {@code spans}, checks it is the only one, returns it. */
  public static SpanData onlyServerSpan(InMemorySpanExporter spans) {
    await("a server span", () -> !serverSpans(spans.getFinishedSpanItems()).isEmpty());
    List<SpanData> server = serverSpans(spans.getFinishedSpanItems());
    assertThat(server).hasSize(1);
    return server.get(0);
  }

  /** The SERVER spans exported so far. */
  public static List<SpanData> serverSpans(List<SpanData> spans) {
    return spans.stream().filter(s -> s.getKind() == SpanKind.SERVER).toList();
  }

  /** The trace ID in a {@code traceresponse} header value. */
  public static String traceIdOf(String traceresponse) {
    assertThat(traceresponse)
        .as("traceresponse")
        .matches("00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}");
    return traceresponse.substring(3, 35);
  }
}
