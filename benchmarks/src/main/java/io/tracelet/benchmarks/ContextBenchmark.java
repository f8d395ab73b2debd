package io.tracelet.benchmarks;

import io.opentelemetry.context.Context;
import io.opentelemetry.context.Scope;
import io.tracelet.CancellableContext;
import io.tracelet.Cancellation;
import io.tracelet.Deadline;
import io.tracelet.DeadlineClock;
import io.tracelet.RequestId;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The request context core: reading values from the current context, the cancellation check, and
 * deriving contexts. Run with {@code -prof gc} for the bytes allocated per operation.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(5)
@State(org.openjdk.jmh.annotations.Scope.Thread)
public class ContextBenchmark {

  private CancellableContext request;
  private Scope scope;
  private Cancellation cancellation;

  /** A request context as the filter makes it: request ID, a 30 s deadline, current. */
  @Setup(Level.Trial)
  public void enterRequest() {
    Context base = RequestId.generate().storeInContext(Context.root());
    request = CancellableContext.withTimeout(base, Duration.ofSeconds(30));
    scope = request.makeCurrent();
    cancellation = request.cancellation();
  }

  @TearDown(Level.Trial)
  public void leaveRequest() {
    scope.close();
    request.close();
  }

  @Benchmark
  public RequestId requestIdCurrent() {
    return RequestId.current();
  }

  @Benchmark
  public Deadline deadlineCurrent() {
    return Cancellation.current().deadline();
  }

  @Benchmark
  public boolean isCancelled() {
    return cancellation.isCancelled();
  }

  @Benchmark
  public boolean currentIsCancelled() {
    return Cancellation.current().isCancelled();
  }

  /** One read of the clock deadlines run on ({@code System.nanoTime()}), for scale. */
  @Benchmark
  public long clockRead() {
    return DeadlineClock.system().nanoTime();
  }

  /** Go's {@code ctx, cancel := context.WithTimeout(ctx, d); defer cancel()}. */
  @Benchmark
  public boolean withTimeoutAndClose() {
    try (CancellableContext ctx =
        CancellableContext.withTimeout(request.context(), Duration.ofMillis(100))) {
      return ctx.cancellation().isCancelled();
    }
  }

  /** Request → timeout → cancel, the 3-level chain Go's articles measure at about 500–600 bytes. */
  @Benchmark
  public boolean threeLevelChain() {
    Context base = RequestId.generate().storeInContext(Context.root());
    try (CancellableContext req = CancellableContext.withCancel(base);
        CancellableContext timeout =
            CancellableContext.withTimeout(req.context(), Duration.ofSeconds(2));
        CancellableContext cancel = CancellableContext.withCancel(timeout.context())) {
      return cancel.cancellation().isCancelled();
    }
  }
}
