package io.tracelet.servlet.internal.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The headers captured in one pass answer every lookup exactly as the container's own lookups do
 * (first, single, every value), whatever the case, repetition or order, for the names with a slot
 * and for those without.
 */
class CapturedHeadersTest {

  /** A request's headers in order, looked up as a servlet container does (ignoring case). */
  private static final class ListHeaders extends CapturedHeaders {
    final List<Map.Entry<String, String>> fields = new ArrayList<>();
    int containerLookups;

    ListHeaders add(String name, String value) {
      fields.add(Map.entry(name, value));
      return this;
    }

    ListHeaders capturedBy(HeaderIndex index) {
      for (Map.Entry<String, String> f : fields) {
        capture(index, f.getKey(), f.getValue());
      }
      captured(index);
      return this;
    }

    @Override
    protected String containerFirst(String name) {
      List<String> v = containerValues(name);
      return v.isEmpty() ? null : v.get(0);
    }

    @Override
    protected String containerSingle(String name) {
      List<String> v = containerValues(name);
      return v.size() == 1 ? v.get(0) : null;
    }

    @Override
    protected List<String> containerValues(String name) {
      containerLookups++;
      List<String> out = new ArrayList<>();
      for (Map.Entry<String, String> f : fields) {
        if (f.getKey().equalsIgnoreCase(name)) {
          out.add(f.getValue());
        }
      }
      return out;
    }

    @Override
    protected Iterable<String> containerNames() {
      List<String> out = new ArrayList<>();
      for (Map.Entry<String, String> f : fields) {
        out.add(f.getKey());
      }
      return out;
    }
  }

  private static final List<String> INDEXED =
      List.of(
          "X-Request-ID",
          "X-Trace-ID",
          "User-Agent",
          "traceparent",
          "tracestate",
          "baggage",
          "b3",
          "X-B3-TraceId",
          // Past the eight slots: looked up in the container.
          "X-B3-SpanId",
          "X-B3-Sampled");

  private static final List<String> ASKED =
      List.of(
          "x-request-id",
          "X-REQUEST-ID",
          "traceparent",
          "TraceParent",
          "tracestate",
          "baggage",
          "b3",
          "x-b3-traceid",
          "X-B3-SpanId",
          "x-b3-sampled",
          "Host",
          "absent");

  @Test
  void indexKeepsEightNamesIgnoringCaseAndDuplicates() {
    HeaderIndex index = new HeaderIndex(List.of("traceparent", "TRACEPARENT", "b3", "B3"));
    assertThat(index.size()).isEqualTo(2);
    assertThat(index.slot("TraceParent")).isEqualTo(0);
    assertThat(index.slot("b3")).isEqualTo(1);
    assertThat(index.slot("tracestate")).isEqualTo(-1);
    assertThat(new HeaderIndex(INDEXED).size()).isEqualTo(HeaderIndex.MAX);
    assertThat(new HeaderIndex(INDEXED).slot("X-B3-SpanId")).isEqualTo(-1);
  }

  @Test
  void capturedAnswersAsTheContainerDoes() {
    HeaderIndex index = new HeaderIndex(INDEXED);
    Random random = new Random(42);
    String[] names = {
      "traceparent",
      "TRACEPARENT",
      "tracestate",
      "Baggage",
      "x-request-id",
      "X-B3-SpanId",
      "x-b3-sampled",
      "Host",
      "b3",
      "User-Agent",
      "Accept"
    };
    for (int run = 0; run < 2_000; run++) {
      ListHeaders container = new ListHeaders();
      ListHeaders captured = new ListHeaders();
      int n = random.nextInt(8);
      for (int i = 0; i < n; i++) {
        String name = names[random.nextInt(names.length)];
        String value = random.nextInt(10) == 0 ? "" : "v" + random.nextInt(3);
        container.add(name, value);
        captured.add(name, value);
      }
      captured.capturedBy(index);
      for (String name : ASKED) {
        String where = captured.fields + " asked for " + name;
        assertThat(captured.first(name)).as(where).isEqualTo(container.first(name));
        assertThat(captured.single(name)).as(where).isEqualTo(container.single(name));
        assertThat(captured.values(name)).as(where).isEqualTo(container.values(name));
      }
      assertThat(captured.names()).isEqualTo(container.names());
    }
  }

  @Test
  void capturedNamesAreNotLookedUpAgainUnlessRepeated() {
    HeaderIndex index = new HeaderIndex(INDEXED);
    ListHeaders once =
        new ListHeaders()
            .add("Host", "h")
            .add("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
            .capturedBy(index);
    once.single("traceparent");
    once.first("tracestate");
    once.values("traceparent");
    once.first("X-Request-ID");
    assertThat(once.containerLookups).isZero();

    ListHeaders twice =
        new ListHeaders().add("traceparent", "a").add("TRACEPARENT", "b").capturedBy(index);
    assertThat(twice.single("traceparent")).isNull();
    assertThat(twice.first("traceparent")).isEqualTo("a");
    assertThat(twice.values("traceparent")).containsExactly("a", "b");

    ListHeaders notCaptured = new ListHeaders().add("traceparent", "a");
    assertThat(notCaptured.first("traceparent")).isEqualTo("a");
    assertThat(notCaptured.containerLookups).isEqualTo(1);
  }
}
