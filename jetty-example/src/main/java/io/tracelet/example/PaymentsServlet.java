package io.tracelet.example;

import io.tracelet.trace.Spans;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** {@code POST /charge} of the "payments" service: authorizes a charge and returns its ID. */
final class PaymentsServlet extends HttpServlet {

  private static final Logger log = LoggerFactory.getLogger(PaymentsServlet.class);

  private final transient Spans spans;
  private final AtomicLong nextPayment = new AtomicLong(1);

  PaymentsServlet(Spans spans) {
    this.spans = spans;
  }

  @Override
  protected void doPost(HttpServletRequest request, HttpServletResponse response)
      throws IOException {
    String paymentId;
    try {
      paymentId = spans.call("authorizeCharge", () -> "pay-" + nextPayment.getAndIncrement());
    } catch (Exception e) {
      Responses.text(response, 500, "charge failed");
      return;
    }
    log.info("payments: charge {} authorized", paymentId);
    Responses.text(response, 200, paymentId);
  }
}
