package io.tracelet.example;

import static org.assertj.core.api.Assertions.assertThat;

import io.opentelemetry.api.baggage.propagation.W3CBaggagePropagator;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.propagation.ContextPropagators;
import io.opentelemetry.context.propagation.TextMapPropagator;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.Callback;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Baggage a caller sends to {@code /order} reaches the payments service only for the keys on the
 * order service's {@code baggage-allow-list}: none by default. Both services are the example's own
 * (its factories, its filter set-up, its traced {@code HttpClient}); the order service's
 * OpenTelemetry propagates W3C baggage, as OpenTelemetry's default propagators do. What the
 * payments service received is recorded on its connector, before its filter.
 */
class OrderBaggageTest {

  private static final String ALLOW_LIST_PROPERTY = "tracelet.baggage-allow-list";
  private static final String CALLER_BAGGAGE = "tenant=acme,session=s3cr3t";

  private final HttpClient client =
      HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
  private final List<String> paymentsBaggage = new CopyOnWriteArrayList<>();
  private final List<String> paymentsTraceparent = new CopyOnWriteArrayList<>();
  private final InMemorySpanExporter spans = InMemorySpanExporter.create();
  private final OpenTelemetrySdk orderOtel = sdk();
  private final OpenTelemetrySdk paymentsOtel = sdk();
  private TaskStore store;
  private Server payments;
  private Server order;

  @AfterEach
  void stop() throws Exception {
    if (order != null) {
      order.stop();
    }
    if (payments != null) {
      payments.stop();
    }
    if (store != null) {
      store.close();
    }
    orderOtel.close();
    paymentsOtel.close();
  }

  @Test
  void byDefault_noCallerBaggageReachesPayments() throws Exception {
    startServices(null);

    HttpResponse<String> response = order(CALLER_BAGGAGE);

    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(paymentsTraceparent).as("the trace still crosses the hop").hasSize(1);
    assertThat(paymentsBaggage).isEmpty();
  }

  @Test
  void withAnAllowList_onlyTheAllowedKeyReachesPayments() throws Exception {
    startServices("tenant");

    HttpResponse<String> response = order(CALLER_BAGGAGE);

    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(paymentsTraceparent).hasSize(1);
    assertThat(paymentsBaggage).containsExactly("tenant=acme");
  }

  private void startServices(String allowList) throws Exception {
    payments = ExampleApp.createPaymentsServer("127.0.0.1", 0, paymentsOtel);
    payments.setHandler(new Recorder(payments.getHandler()));
    payments.start();
    store =
        TaskStore.open(
            "jdbc:h2:mem:order-baggage-" + System.nanoTime() + ";DB_CLOSE_DELAY=-1",
            Duration.ofMillis(500));
    URI paymentsUri = URI.create("http://127.0.0.1:" + port(payments) + "/");
    order = ExampleApp.createServer("127.0.0.1", 0, orderOtel, store, paymentsUri);
    // The filter reads its settings once, at start-up: as -Dtracelet.baggage-allow-list=tenant
    // (or TRACELET_BAGGAGE_ALLOW_LIST) would set them for the example.
    if (allowList != null) {
      System.setProperty(ALLOW_LIST_PROPERTY, allowList);
    }
    try {
      order.start();
    } finally {
      System.clearProperty(ALLOW_LIST_PROPERTY);
    }
  }

  private HttpResponse<String> order(String baggage) throws Exception {
    HttpRequest request =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port(order) + "/order"))
            .header("baggage", baggage)
            .build();
    return client.send(request, HttpResponse.BodyHandlers.ofString());
  }

  private static int port(Server server) {
    return ((ServerConnector) server.getConnectors()[0]).getLocalPort();
  }

  private OpenTelemetrySdk sdk() {
    return OpenTelemetrySdk.builder()
        .setTracerProvider(
            SdkTracerProvider.builder().addSpanProcessor(SimpleSpanProcessor.create(spans)).build())
        .setPropagators(
            ContextPropagators.create(
                TextMapPropagator.composite(
                    W3CTraceContextPropagator.getInstance(), W3CBaggagePropagator.getInstance())))
        .build();
  }

  /** Records the trace headers of each request as it arrives, then hands it on unchanged. */
  private final class Recorder extends Handler.Wrapper {
    Recorder(Handler handler) {
      super(handler);
    }

    @Override
    public boolean handle(Request request, Response response, Callback callback) throws Exception {
      paymentsBaggage.addAll(request.getHeaders().getValuesList("baggage"));
      paymentsTraceparent.addAll(request.getHeaders().getValuesList("traceparent"));
      return super.handle(request, response, callback);
    }
  }
}
