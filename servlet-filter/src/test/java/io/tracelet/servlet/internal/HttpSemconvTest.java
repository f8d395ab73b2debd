package io.tracelet.servlet.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Set;
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
}
