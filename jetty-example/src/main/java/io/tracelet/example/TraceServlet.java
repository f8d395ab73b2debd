package io.tracelet.example;

import io.tracelet.RequestId;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;

/**
 * {@code GET /trace}: the request's ID, the incoming {@code X-Request-ID} when it is valid, else
 * the one the filter generated.
 */
final class TraceServlet extends HttpServlet {

  @Override
  protected void doGet(HttpServletRequest request, HttpServletResponse response)
      throws IOException {
    Responses.json(
        response, 200, "{\"requestID\":" + Responses.quote(RequestId.currentValue()) + "}");
  }
}
