package io.tracelet.it;

import io.opentelemetry.api.trace.Span;
import io.tracelet.Cancellation;
import io.tracelet.Deadline;
import io.tracelet.RequestId;
import jakarta.servlet.http.HttpServletRequest;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.client.RestClient;
import org.springframework.web.client.RestTemplate;

@RestController
public class TestController {
  private final RestClient.Builder restClient;
  private final RestTemplate restTemplate;

  public TestController(RestClient.Builder restClient, RestTemplate restTemplate) {
    this.restClient = restClient;
    this.restTemplate = restTemplate;
  }

  // snippet: order
  @GetMapping("/orders/{id}")
  public String order(@PathVariable String id, RequestId requestId) {
    return "order " + id + " for request " + requestId.value();
  }

  // end-snippet

  @GetMapping("/secure/data")
  public String secure() {
    return "secret";
  }

  @GetMapping("/boom")
  public String boom() {
    throw new IllegalStateException("boom");
  }

  /** The request's context as the controller sees it. */
  @GetMapping("/context")
  public String context(Cancellation cancellation, Deadline deadline, RequestId requestId) {
    return "requestId="
        + requestId.value()
        + " deadline="
        + (deadline == null ? "none" : deadline.timeRemaining().toMillis() > 0 ? "set" : "passed")
        + " cancelled="
        + cancellation.isCancelled()
        + " recording="
        + Span.current().isRecording();
  }

  /** Waits for the request's context to end (deadline or client gone), then gives up. */
  @GetMapping("/wait")
  public String waitForCancel(Cancellation cancellation) throws InterruptedException {
    Signals.thread.set(Thread.currentThread());
    Signals.entered.countDown();
    if (cancellation.await(Duration.ofSeconds(30))) {
      Signals.cause.set(cancellation.cause());
      Signals.cancelled.countDown();
    }
    cancellation.throwIfCancelled();
    return "never cancelled";
  }

  /** Blocks until the test releases it, whatever its context says. */
  @GetMapping("/hang")
  public String hang() throws InterruptedException {
    Signals.entered.countDown();
    Signals.release.await(30, TimeUnit.SECONDS);
    return "released";
  }

  /** What a downstream service received. */
  @GetMapping("/downstream")
  public String downstream(HttpServletRequest request, RequestId requestId) {
    return "traceparent="
        + request.getHeader("traceparent")
        + " requestId="
        + requestId.value()
        + " timeoutMs="
        + request.getHeader("X-Request-Timeout-Ms")
        + " traceId="
        + Span.current().getSpanContext().getTraceId();
  }

  /** Calls another application's path with the RestClient Spring Boot built. */
  // snippet: proxy
  @GetMapping("/proxy")
  public String proxy(@RequestParam int port, @RequestParam String path) {
    return restClient
        .build()
        .get()
        .uri("http://127.0.0.1:" + port + path)
        .retrieve()
        .body(String.class);
  }

  // end-snippet

  /** The same with a RestTemplate bean of the application's own. */
  @GetMapping("/proxy-template")
  public String proxyTemplate(@RequestParam int port, @RequestParam String path) {
    return restTemplate.getForObject("http://127.0.0.1:" + port + path, String.class);
  }
}
