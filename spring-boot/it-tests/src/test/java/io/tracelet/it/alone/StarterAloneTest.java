package io.tracelet.it.alone;

import static io.tracelet.it.Apps.get;
import static io.tracelet.it.Apps.serverSpans;
import static io.tracelet.it.Apps.traceIdOf;
import static org.assertj.core.api.Assertions.assertThat;

import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.tracelet.DeadlineExceededException;
import io.tracelet.it.Apps;
import io.tracelet.it.InMemoryOtel;
import io.tracelet.it.Signals;
import io.tracelet.it.TestApp;
import io.tracelet.servlet.TracingFilter;
import io.tracelet.spring.boot.TraceletAutoConfiguration;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.boot.web.servlet.FilterRegistrationBean;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * The starter alone (no Micrometer Tracing, no OpenTelemetry starter) in a real application on
 * Tomcat, with Spring Security, and the application's own OpenTelemetry bean.
 */
class StarterAloneTest {
  private static final AttributeKey<String> HTTP_ROUTE = AttributeKey.stringKey("http.route");
  private static ConfigurableApplicationContext app;
  private static ConfigurableApplicationContext downstream;

  @BeforeAll
  static void start() {
    app = Apps.start(new Class<?>[] {TestApp.class, InMemoryOtel.class});
    downstream = Apps.start(new Class<?>[] {TestApp.class, InMemoryOtel.class});
  }

  @AfterAll
  static void stop() {
    Signals.reset();
    if (app != null) {
      app.close();
    }
    if (downstream != null) {
      downstream.close();
    }
  }

  @BeforeEach
  void clear() {
    Signals.reset();
    InMemoryOtel.SPANS.reset();
  }

  private static SpanData onlyServerSpan() {
    return Apps.onlyServerSpan(InMemoryOtel.SPANS);
  }

  private static void assertIds(HttpResponse<String> response, SpanData span) {
    assertThat(response.headers().firstValue("X-Request-ID")).isPresent();
    String traceresponse = response.headers().firstValue("traceresponse").orElse(null);
    assertThat(traceIdOf(traceresponse)).isEqualTo(span.getTraceId());
  }

  @Test
  void theFilter_isRegisteredBeforeSpringSecurity_forRequestAsyncAndError() {
    FilterRegistrationBean<?> bean =
        app.getBean(TraceletAutoConfiguration.FILTER_BEAN_NAME, FilterRegistrationBean.class);
    assertThat(bean.getFilter()).isInstanceOf(TracingFilter.class);
    assertThat(bean.getOrder()).isEqualTo(TraceletAutoConfiguration.FILTER_ORDER).isLessThan(-100);
  }

  @Test
  void aRequest_hasOneServerSpan_namedWithTheRoute() throws Exception {
    HttpResponse<String> response = get(app, "/orders/42", "X-Request-ID", "req-42");
    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.body()).isEqualTo("order 42 for request req-42");
    assertThat(response.headers().firstValue("X-Request-ID")).hasValue("req-42");
    SpanData span = onlyServerSpan();
    assertThat(span.getName()).isEqualTo("GET /orders/{id}");
    assertThat(span.getAttributes().get(HTTP_ROUTE)).isEqualTo("/orders/{id}");
    assertIds(response, span);
  }

  @Test
  void a401FromSpringSecurity_stillCarriesTheIds() throws Exception {
    HttpResponse<String> response = get(app, "/secure/data");
    assertThat(response.statusCode()).isEqualTo(401);
    SpanData span = onlyServerSpan();
    assertThat(span.getName()).isEqualTo("GET");
    assertIds(response, span);
  }

  @Test
  void a404_keepsTheLowCardinalityName_andTheIds() throws Exception {
    HttpResponse<String> response = get(app, "/no/such/path");
    assertThat(response.statusCode()).isEqualTo(404);
    SpanData span = onlyServerSpan();
    assertThat(span.getName()).isEqualTo("GET");
    assertIds(response, span);
  }

  @Test
  void anErrorPage_carriesTheIds_andTheSpanKeepsTheRoute() throws Exception {
    HttpResponse<String> response = get(app, "/boom");
    assertThat(response.statusCode()).isEqualTo(500);
    SpanData span = onlyServerSpan();
    assertThat(span.getName()).isEqualTo("GET /boom");
    assertIds(response, span);
  }

  @Test
  void aController_getsTheRequestsIdAndDeadline() throws Exception {
    HttpResponse<String> response =
        get(app, "/context", "X-Request-ID", "abc-1", "X-Request-Timeout-Ms", "5000");
    assertThat(response.body())
        .isEqualTo("requestId=abc-1 deadline=set cancelled=false recording=true");
    response = get(app, "/context");
    assertThat(response.body()).contains("deadline=none");
    // Both spans end after their answers; wait, so that they do not reach the next test.
    Apps.await(
        "both server spans",
        () -> serverSpans(InMemoryOtel.SPANS.getFinishedSpanItems()).size() == 2);
  }

  @Test
  void aDeadlineThatPasses_isAnswered504_withAProblemDetail() throws Exception {
    long start = System.nanoTime();
    HttpResponse<String> response =
        get(app, "/wait", "X-Request-ID", "late-1", "X-Request-Timeout-Ms", "300");
    long tookMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
    assertThat(response.statusCode()).isEqualTo(504);
    assertThat(response.headers().firstValue("Content-Type"))
        .hasValueSatisfying(t -> assertThat(t).startsWith("application/problem+json"));
    assertThat(response.body())
        .contains("\"status\":504")
        .contains("\"title\":\"Gateway Timeout\"")
        .contains("\"requestId\":\"late-1\"")
        .contains("\"instance\":\"/wait\"");
    // The controller's wait ended because of the deadline, not its own 30 s limit.
    assertThat(Signals.cause.get()).isInstanceOf(DeadlineExceededException.class);
    assertThat(tookMs).as("answered %d ms after the request was sent", tookMs).isLessThan(10_000);
    SpanData span = onlyServerSpan();
    assertThat(span.getName()).isEqualTo("GET /wait");
    assertThat(span.getAttributes().get(AttributeKey.longKey("http.response.status_code")))
        .isEqualTo(504L);
  }

  @Test
  void aRestClientCall_carriesTheTraceRequestIdAndRemainingTime() throws Exception {
    HttpResponse<String> response =
        get(
            app,
            "/proxy?port=" + Apps.port(downstream) + "&path=/downstream",
            "X-Request-ID",
            "chain-1",
            "X-Request-Timeout-Ms",
            "20000");
    assertThat(response.statusCode()).isEqualTo(200);
    String traceId = traceIdOf(response.headers().firstValue("traceresponse").orElseThrow());
    assertThat(response.body())
        .contains("requestId=chain-1")
        .contains("traceId=" + traceId)
        .matches(".*timeoutMs=\\d+ .*");
    long forwardedMs = Long.parseLong(response.body().replaceAll(".*timeoutMs=(\\d+) .*", "$1"));
    assertThat(forwardedMs).isPositive().isLessThanOrEqualTo(20000);
    Apps.await(
        "both server spans",
        () ->
            serverSpans(InMemoryOtel.SPANS.getFinishedSpanItems()).stream()
                    .filter(
                        s ->
                            s.getName().equals("GET /proxy")
                                || s.getName().equals("GET /downstream"))
                    .count()
                == 2);
    List<SpanData> spans = InMemoryOtel.SPANS.getFinishedSpanItems();
    SpanData caller =
        serverSpans(spans).stream()
            .filter(s -> s.getName().equals("GET /proxy"))
            .findFirst()
            .orElseThrow();
    SpanData callee =
        serverSpans(spans).stream()
            .filter(s -> s.getName().equals("GET /downstream"))
            .findFirst()
            .orElseThrow();
    SpanData client =
        spans.stream().filter(s -> s.getKind() == SpanKind.CLIENT).findFirst().orElseThrow();
    assertThat(client.getTraceId()).isEqualTo(traceId);
    assertThat(client.getParentSpanId()).isEqualTo(caller.getSpanId());
    assertThat(callee.getTraceId()).isEqualTo(traceId);
    assertThat(callee.getParentSpanId()).isEqualTo(client.getSpanId());
    assertThat(response.body()).contains("traceparent=00-" + traceId + "-" + client.getSpanId());
  }

  @Test
  void aRestTemplateCall_carriesTheTraceRequestIdAndRemainingTime() throws Exception {
    HttpResponse<String> response =
        get(
            app,
            "/proxy-template?port=" + Apps.port(downstream) + "&path=/downstream",
            "X-Request-ID",
            "tmpl-1",
            "X-Request-Timeout-Ms",
            "20000");
    assertThat(response.statusCode()).isEqualTo(200);
    String traceId = traceIdOf(response.headers().firstValue("traceresponse").orElseThrow());
    assertThat(response.body())
        .contains("requestId=tmpl-1")
        .contains("traceparent=00-" + traceId + "-")
        .contains("traceId=" + traceId)
        .matches(".*timeoutMs=\\d+ .*");
    Apps.await(
        "both server spans",
        () ->
            serverSpans(InMemoryOtel.SPANS.getFinishedSpanItems()).stream()
                    .filter(
                        s ->
                            s.getName().equals("GET /proxy-template")
                                || s.getName().equals("GET /downstream"))
                    .count()
                == 2);
  }

  @Test
  void aRestClientCall_isAbandonedWhenTheDeadlinePasses() throws Exception {
    HttpResponse<String> response =
        get(
            app,
            "/proxy?port=" + Apps.port(downstream) + "&path=/hang",
            "X-Request-Timeout-Ms",
            "400");
    // The downstream call was made, then abandoned at the deadline: the caller answers 504 while
    // the downstream handler still hangs.
    assertThat(Signals.entered.getCount()).isZero();
    assertThat(Signals.release.getCount()).isEqualTo(1);
    assertThat(response.statusCode()).isEqualTo(504);
    assertThat(response.body()).contains("\"status\":504");
    Apps.await(
        "the client span",
        () ->
            InMemoryOtel.SPANS.getFinishedSpanItems().stream()
                .anyMatch(s -> s.getKind() == SpanKind.CLIENT));
    SpanData client =
        InMemoryOtel.SPANS.getFinishedSpanItems().stream()
            .filter(s -> s.getKind() == SpanKind.CLIENT)
            .findFirst()
            .orElseThrow();
    assertThat(client.getAttributes().get(AttributeKey.stringKey("error.type")))
        .isEqualTo(DeadlineExceededException.class.getName());
    // Let the downstream handler finish, so that its span does not reach the next test.
    Signals.release.countDown();
    Apps.await(
        "the downstream span",
        () ->
            serverSpans(InMemoryOtel.SPANS.getFinishedSpanItems()).stream()
                .anyMatch(s -> s.getName().equals("GET /hang")));
  }
}
