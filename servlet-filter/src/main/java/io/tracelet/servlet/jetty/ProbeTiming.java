package io.tracelet.servlet.jetty;

import java.time.Duration;

/**
 * When the HTTP/1.1 read probe of a request starts looking at its socket ({@code ReadProbe}); one
 * per detector. It holds no Jetty types, so that {@link JettyDisconnectDetector} loads without
 * Jetty.
 *
 * <p>A request that may have waited for a thread, long enough for its client to leave, is looked at
 * as soon as it is watched. Two signs tell: the headers' age, which on HTTP/1.1 does not include
 * the wait in the pool's queue (Jetty parses the headers on the pooled thread that then runs the
 * application, after the task that reads the socket waited) but does include time spent in filters
 * in front of ours; and the pool being short of threads, now or within the last {@link
 * #POOL_SHORT_WINDOW}: tasks queue only then, and the last ones taken from a draining queue find
 * the pool idle again although they waited as long as the others.
 *
 * <p>Any other request is probed only once it has run for the arming delay: most requests end
 * before it, and then never cost Jetty's selector anything.
 */
final class ProbeTiming {
  /**
   * How long after a watch found the pool short of threads later requests are still suspected of
   * having waited: the time a queue takes to drain once threads come free, with a wide margin. The
   * look costs a selector of our own per request, only during and just after an overload.
   */
  static final Duration POOL_SHORT_WINDOW = Duration.ofSeconds(1);

  private final long armingDelayNanos;
  private final long lateAfterNanos;
  private final long windowNanos;
  // System.nanoTime() until which the pool counts as recently short of threads.
  private volatile long poolShortUntil;

  ProbeTiming(Duration armingDelay, Duration lateAfter, Duration window) {
    this.armingDelayNanos = armingDelay.toNanos();
    this.lateAfterNanos = lateAfter.toNanos();
    this.windowNanos = window.toNanos();
    this.poolShortUntil = System.nanoTime();
  }

  /**
   * Whether a request whose headers were parsed at {@code headersNanoTime} may have waited; {@code
   * poolShort} says whether the pool is short of threads right now.
   */
  boolean mayHaveWaited(long now, long headersNanoTime, boolean poolShort) {
    if (poolShort) {
      poolShortUntil = now + windowNanos;
      return true;
    }
    return now - headersNanoTime >= lateAfterNanos || poolShortUntil - now > 0;
  }

  /** How long after its headers were parsed a request's socket starts being watched. */
  long armingDelayNanos() {
    return armingDelayNanos;
  }
}
