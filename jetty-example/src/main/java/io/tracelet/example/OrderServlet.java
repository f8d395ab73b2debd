package io.tracelet.example;

import io.tracelet.ContextDoneException;
import io.tracelet.trace.SpanScope;
import io.tracelet.trace.Spans;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code GET /order}: validates an order, charges it through the payments service (a real HTTP
 * call, so the trace crosses two services) and stores it, each step in its own span.
 */
final class OrderServlet extends HttpServlet {

  private static final Logger log = LoggerFactory.getLogger(OrderServlet.class);

  private record Order(String item, long amountCents) {}

  private final transient Spans spans;
  private final transient HttpClient client;
  private final URI chargeUri;
  private final transient TaskStore store;

  OrderServlet(Spans spans, HttpClient client, URI paymentsUri, TaskStore store) {
    this.spans = spans;
    this.client = client;
    this.chargeUri = paymentsUri.resolve("/charge");
    this.store = store;
  }

  @Override
  protected void doGet(HttpServletRequest request, HttpServletResponse response)
      throws IOException {
    long orderId;
    try (SpanScope handler = spans.start("orderHandler")) {
      try {
        Order order = spans.call("validateOrder", OrderServlet::validateOrder);
        String paymentId = spans.call("processPayment", () -> processPayment(order));
        orderId =
            spans.call(
                "createOrderRecord",
                () -> store.insertOrder(order.item(), order.amountCents(), paymentId));
        log.info("order {} created, payment {}", orderId, paymentId);
      } catch (ContextDoneException e) {
        // The filter answers a passed deadline with 504 and a client that left with nothing.
        handler.recordFailure(e);
        throw e;
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        handler.recordFailure(e);
        Responses.text(response, 503, "Order interrupted");
        return;
      } catch (Exception e) {
        handler.recordFailure(e);
        log.warn("order failed: {}", e.toString());
        Responses.text(response, 502, "Order failed");
        return;
      }
    }
    Responses.text(response, 200, "Order created successfully");
  }

  private static Order validateOrder() {
    Order order = new Order("book", 1299);
    if (order.amountCents() <= 0) {
      throw new IllegalArgumentException("amount must be positive");
    }
    return order;
  }

  private String processPayment(Order order) throws Exception {
    return spans.call("processPayment.callPaymentGateway", () -> callPaymentGateway(order));
  }

  private String callPaymentGateway(Order order) throws IOException, InterruptedException {
    HttpRequest charge =
        HttpRequest.newBuilder(chargeUri)
            .header("Content-Type", "application/x-www-form-urlencoded")
            .POST(HttpRequest.BodyPublishers.ofString("amount_cents=" + order.amountCents()))
            .build();
    HttpResponse<String> answer = client.send(charge, HttpResponse.BodyHandlers.ofString());
    if (answer.statusCode() != 200) {
      throw new IOException("payment gateway answered " + answer.statusCode());
    }
    return answer.body().trim();
  }
}
