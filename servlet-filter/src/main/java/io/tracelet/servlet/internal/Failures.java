package io.tracelet.servlet.internal;

/** What our log lines may say about a failure that is not ours. */
public final class Failures {
  private Failures() {}

  /**
   * The exception's class and the frame that threw it, never its message: a propagator's or span
   * processor's message may quote a header or a span attribute, and raw request data never reaches
   * our log lines.
   */
  public static String describe(Throwable e) {
    StackTraceElement[] trace = e.getStackTrace();
    return e.getClass().getName() + " at " + (trace.length == 0 ? "unknown" : trace[0]);
  }
}
