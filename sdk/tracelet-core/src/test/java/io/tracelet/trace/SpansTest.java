package io.tracelet.trace;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.context.Context;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.tracelet.CancellableContext;
import io.tracelet.Deadline;
import io.tracelet.DeadlineClock;
import io.tracelet.testing.TestTracing;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class SpansTest {

  private final TestTracing tracing = new TestTracing();
  private final Spans spans = Spans.create(tracing.openTelemetry());

  @AfterEach
  void close() {
    tracing.close();
    assertThat(Context.current()).isSameAs(Context.root());
  }

  private SpanData span(String name) {
    return tracing.exporter.getFinishedSpanItems().stream()
        .filter(s -> s.getName().equals(name))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no finished span named " + name));
  }

  @Test
  void nestedHelpers_linkChildToParent_andRestoreContext() throws Exception {
    try (SpanScope request = spans.start("request", SpanKind.SERVER)) {
      assertThat(Span.current()).isSameAs(request.span());
      spans.run("validateOrder", () -> assertThat(Span.current()).isNotSameAs(request.span()));
      int saved = spans.call("saveOrder", () -> spans.call("db.insert", () -> 42));
      assertThat(saved).isEqualTo(42);
      assertThat(Span.current()).isSameAs(request.span());
    }
    assertThat(Span.current().getSpanContext().isValid()).isFalse();

    SpanData request = span("request");
    assertThat(request.getKind()).isEqualTo(SpanKind.SERVER);
    assertThat(request.getParentSpanContext().isValid()).isFalse();
    assertThat(span("validateOrder").getParentSpanId()).isEqualTo(request.getSpanId());
    assertThat(span("saveOrder").getParentSpanId()).isEqualTo(request.getSpanId());
    assertThat(span("db.insert").getParentSpanId()).isEqualTo(span("saveOrder").getSpanId());
    assertThat(tracing.exporter.getFinishedSpanItems())
        .allSatisfy(s -> assertThat(s.getTraceId()).isEqualTo(request.getTraceId()));
  }

  @Test
  void executorHop_withTaskWrapping_keepsParent() throws Exception {
    ExecutorService pool = Context.taskWrapping(Executors.newSingleThreadExecutor());
    try {
      try (SpanScope request = spans.start("request")) {
        pool.submit(() -> spans.run("onWorker", () -> {})).get(5, TimeUnit.SECONDS);
      }
    } finally {
      pool.shutdown();
      assertThat(pool.awaitTermination(5, TimeUnit.SECONDS)).isTrue();
    }
    assertThat(span("onWorker").getParentSpanId()).isEqualTo(span("request").getSpanId());
  }

  @Test
  void explicitParent_andAttributes_areUsed() {
    Context parent;
    try (SpanScope outer = spans.start("outer")) {
      parent = outer.context();
    }
    Attributes attributes = Attributes.of(AttributeKey.stringKey("order.id"), "o-1");
    try (SpanScope s = spans.start(parent, "late", SpanKind.CONSUMER, attributes)) {
      assertThat(Span.current()).isSameAs(s.span());
    }
    SpanData late = span("late");
    assertThat(late.getParentSpanId()).isEqualTo(span("outer").getSpanId());
    assertThat(late.getKind()).isEqualTo(SpanKind.CONSUMER);
    assertThat(late.getAttributes().get(AttributeKey.stringKey("order.id"))).isEqualTo("o-1");
  }

  @Test
  void close_endsSpanExactlyOnce() {
    SpanScope s = spans.start("once");
    s.close();
    s.close();
    assertThat(tracing.exporter.getFinishedSpanItems()).hasSize(1);
    assertThat(Context.current()).isSameAs(Context.root());
  }

  @Test
  void run_recordsAndRethrowsUncheckedUnchanged() {
    IllegalStateException boom = new IllegalStateException("boom");
    assertThatThrownBy(
            () ->
                spans.run(
                    "failing",
                    () -> {
                      throw boom;
                    }))
        .isSameAs(boom);
    SpanData failing = span("failing");
    assertThat(failing.getStatus().getStatusCode()).isEqualTo(StatusCode.ERROR);
    assertThat(failing.getEvents()).anySatisfy(e -> assertThat(e.getName()).isEqualTo("exception"));
    assertThat(failing.hasEnded()).isTrue();
  }

  @Test
  void call_rethrowsCheckedExceptionUnchanged() {
    IOException io = new IOException("disk");
    assertThatThrownBy(
            () ->
                spans.call(
                    "io",
                    () -> {
                      throw io;
                    }))
        .isSameAs(io);
    assertThat(span("io").getStatus().getStatusCode()).isEqualTo(StatusCode.ERROR);
  }

  @Test
  void endingInCancelledContext_addsCauseButNoError() {
    try (CancellableContext cc = CancellableContext.withCancel();
        SpanScope s = spans.start(cc.context(), "work")) {
      cc.cancel();
    }
    SpanData work = span("work");
    assertThat(work.getStatus().getStatusCode()).isEqualTo(StatusCode.UNSET);
    assertThat(work.getAttributes().get(SpanScope.CANCELLED)).isTrue();
    assertThat(work.getEvents())
        .singleElement()
        .satisfies(
            e -> {
              assertThat(e.getName()).isEqualTo("tracelet.cancelled");
              assertThat(e.getAttributes().get(SpanScope.CANCEL_CAUSE)).isEqualTo("canceled");
            });
  }

  @Test
  void endingPastDeadline_beforeTimerFires_saysDeadlineExceeded() {
    FakeClock clock = new FakeClock();
    try (CancellableContext cc =
            CancellableContext.withDeadline(
                Context.root(), Deadline.after(Duration.ofMillis(10), clock));
        SpanScope s = spans.start(cc.context(), "slow")) {
      clock.nanos += Duration.ofMillis(11).toNanos();
    }
    SpanData slow = span("slow");
    assertThat(slow.getAttributes().get(SpanScope.CANCEL_CAUSE)).isEqualTo("deadline_exceeded");
    assertThat(slow.getStatus().getStatusCode()).isEqualTo(StatusCode.UNSET);
  }

  @Test
  void uncancelledSpan_hasNoCancellationMarks() {
    try (CancellableContext cc = CancellableContext.withCancel();
        SpanScope s = spans.start(cc.context(), "fine")) {
      assertThat(s.span().isRecording()).isTrue();
    }
    assertThat(span("fine").getAttributes().get(SpanScope.CANCELLED)).isNull();
    assertThat(span("fine").getEvents()).isEmpty();
  }

  @Test
  void nullName_failsFast() {
    assertThatThrownBy(() -> spans.start((String) null)).isInstanceOf(NullPointerException.class);
  }

  /** A clock that only moves when the test moves it; its timers never fire. */
  static final class FakeClock implements DeadlineClock {
    long nanos = 1_000_000_000L;

    @Override
    public long nanoTime() {
      return nanos;
    }

    @Override
    public Instant wallTime() {
      return Instant.EPOCH.plusNanos(nanos);
    }

    @Override
    public Timer schedule(Runnable task, long delayNanos) {
      return () -> {};
    }
  }
}
