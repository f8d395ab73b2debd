package io.tracelet.spring.boot;

import io.tracelet.Cancellation;
import io.tracelet.ContextDoneException;
import io.tracelet.DeadlineExceededException;
import io.tracelet.RequestId;
import jakarta.servlet.http.HttpServletRequest;
import java.net.URI;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.core.Ordered;
import org.springframework.core.annotation.Order;
import org.springframework.http.HttpStatus;
import org.springframework.http.HttpStatusCode;
import org.springframework.http.ProblemDetail;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.ControllerAdvice;
import org.springframework.web.bind.annotation.ExceptionHandler;

/**
 * Answers a {@link ContextDoneException} that escapes a handler: the deadline passed, 504 with a
 * {@link ProblemDetail} (as Spring's own error responses); the client left, logged at INFO and
 * answered with 499 and no body (nobody reads it). The application's own handlers come first
 * (lowest precedence).
 */
@ControllerAdvice
@Order(Ordered.LOWEST_PRECEDENCE)
final class TraceletExceptionHandler {

  /** Status of a request whose client left (nginx's "client closed request"). */
  static final int CLIENT_CLOSED_REQUEST = 499;

  private static final Logger log = LoggerFactory.getLogger(TraceletExceptionHandler.class);

  @ExceptionHandler(ContextDoneException.class)
  ResponseEntity<ProblemDetail> contextDone(ContextDoneException e, HttpServletRequest request) {
    Cancellation cancellation = Cancellation.current();
    String requestId = RequestId.currentValue();
    if (e instanceof DeadlineExceededException
        || cancellation.cause() instanceof DeadlineExceededException) {
      ProblemDetail problem =
          ProblemDetail.forStatusAndDetail(
              HttpStatus.GATEWAY_TIMEOUT,
              "The request's deadline passed before it could be answered.");
      problem.setInstance(URI.create(safePath(request)));
      if (requestId != null) {
        problem.setProperty("requestId", requestId);
      }
      return ResponseEntity.status(HttpStatus.GATEWAY_TIMEOUT).body(problem);
    }
    log.info("Tracelet: request {} cancelled (the client disconnected)", requestId);
    return ResponseEntity.status(HttpStatusCode.valueOf(CLIENT_CLOSED_REQUEST)).build();
  }

  private static String safePath(HttpServletRequest request) {
    String uri = request.getRequestURI();
    try {
      return URI.create(uri).getRawPath();
    } catch (IllegalArgumentException e) {
      return "/";
    }
  }
}
