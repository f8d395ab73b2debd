package io.tracelet.servlet.internal.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class HttpSemconvTest {

  @Test
  void unknownMethod_isOther_andSpanNamedHttp() {
    assertThat(HttpSemconv.method("GET")).isEqualTo("GET");
    assertThat(HttpSemconv.method("get")).isEqualTo("_OTHER");
    assertThat(HttpSemconv.method("PROPFIND")).isEqualTo("_OTHER");
    assertThat(HttpSemconv.spanName("_OTHER", null)).isEqualTo("HTTP");
    assertThat(HttpSemconv.spanName("POST", "/tasks/{id}")).isEqualTo("POST /tasks/{id}");
  }

  @Test
  void query_sensitiveValuesRedacted_caseInsensitivelyAndAfterDecoding() {
    Set<String> redact = Set.of("token", "sig");
    assertThat(HttpSemconv.redactQuery("a=1&Token=x&s%69g=y&b&&c=", redact))
        .isEqualTo("a=1&Token=REDACTED&s%69g=REDACTED&b&&c=");
    assertThat(HttpSemconv.redactQuery("bad=%zz&token=t", redact))
        .isEqualTo("bad=%zz&token=REDACTED");
  }

  @Test
  void routes_areBounded() {
    HttpSemconv s = new HttpSemconv();
    for (int i = 0; i < HttpSemconv.MAX_ROUTES; i++) {
      assertThat(s.admitRoute("/r" + i)).isEqualTo("/r" + i);
    }
    assertThat(s.admitRoute("/one-too-many")).isNull();
    assertThat(s.admitRoute("/r7")).isEqualTo("/r7");
    assertThat(s.admitRoute("/bad\nroute")).isNull();
  }

  // Regression: the size check and the add were separate steps, so concurrent new routes could
  // overshoot the limit.
  @Test
  void routes_areBoundedExactly_underConcurrency() throws Exception {
    // Many short rounds: each one a fresh race at the moment the set fills up.
    for (int round = 0; round < 200; round++) {
      assertThat(admittedConcurrently(new HttpSemconv())).isEqualTo(HttpSemconv.MAX_ROUTES);
    }
  }

  private static int admittedConcurrently(HttpSemconv s) throws Exception {
    int threads = 8;
    CyclicBarrier start = new CyclicBarrier(threads);
    AtomicInteger admitted = new AtomicInteger();
    List<Thread> all = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      int id = t;
      Thread thread =
          new Thread(
              () -> {
                try {
                  start.await();
                } catch (Exception e) {
                  throw new IllegalStateException(e);
                }
                for (int i = 0; i < 200; i++) {
                  if (s.admitRoute("/t" + id + "/" + i) != null) {
                    admitted.incrementAndGet();
                  }
                }
              });
      thread.start();
      all.add(thread);
    }
    for (Thread thread : all) {
      thread.join();
    }
    return admitted.get();
  }
}
