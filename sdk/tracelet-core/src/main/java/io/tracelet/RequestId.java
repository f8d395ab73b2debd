package io.tracelet;

import io.opentelemetry.api.trace.TraceId;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.ContextKey;
import io.opentelemetry.context.ImplicitContextKeyed;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The ID of one request, carried in the request's {@link Context}.
 *
 * <p>Incoming values are accepted only when they match {@code [A-Za-z0-9+/=._@:-]{1,200}}; anything
 * else is <em>replaced</em> by a generated ID, never repaired. Stripping bad characters would turn
 * {@code a; X-Evil: 1} into a different but valid-looking ID, which is worse than a fresh one.
 *
 * <pre>{@code
 * RequestId id = RequestId.parseOrGenerate(request.getHeader("X-Request-ID"));
 * try (Scope s = id.storeInContext(Context.current()).makeCurrent()) {
 *   log.info("handling {}", RequestId.current());
 * }
 * }</pre>
 */
public final class RequestId implements ImplicitContextKeyed {

  // Private: only this class can read or write the request ID. ContextKey compares by identity, so
  // another library that names a key "tracelet.request-id" still gets a different key.
  private static final ContextKey<RequestId> KEY = ContextKey.named("tracelet.request-id");

  /** The longest accepted incoming request ID. */
  public static final int MAX_LENGTH = 200;

  private static final boolean[] ALLOWED = new boolean[128];

  static {
    for (char c = 'A'; c <= 'Z'; c++) {
      ALLOWED[c] = true;
    }
    for (char c = 'a'; c <= 'z'; c++) {
      ALLOWED[c] = true;
    }
    for (char c = '0'; c <= '9'; c++) {
      ALLOWED[c] = true;
    }
    for (char c : "+/=._@:-".toCharArray()) {
      ALLOWED[c] = true;
    }
  }

  private final String value;
  private final boolean generated;

  private RequestId(String value, boolean generated) {
    this.value = value;
    this.generated = generated;
  }

  /**
   * Returns a new random ID of 32 lowercase hex characters.
   *
   * <p>It uses {@link ThreadLocalRandom} rather than {@code UUID.randomUUID()}: a request ID needs
   * to be unique, not unguessable, and {@code SecureRandom} costs about ten times more. With 128
   * random bits, a collision among a billion IDs has a probability of about 10<sup>-21</sup>.
   */
  public static RequestId generate() {
    ThreadLocalRandom random = ThreadLocalRandom.current();
    // OpenTelemetry's formatter writes the 32 hex digits into a thread-local buffer and makes the
    // String from it, one array per ID; formatting our own bytes cost a second array (a String
    // copies them), 48 bytes per request in the end-to-end allocation profile.
    return new RequestId(TraceId.fromLongs(random.nextLong(), random.nextLong()), true);
  }

  /**
   * Returns the incoming ID if it is valid, else a generated one. Never throws; {@code null} and
   * the empty string are invalid.
   */
  public static RequestId parseOrGenerate(CharSequence incoming) {
    if (incoming != null && isValid(incoming)) {
      return new RequestId(incoming.toString(), false);
    }
    return generate();
  }

  /**
   * Returns the ID with exactly this value.
   *
   * @throws IllegalArgumentException if {@code value} does not match {@code
   *     [A-Za-z0-9+/=._@:-]{1,200}}
   */
  public static RequestId of(String value) {
    if (value == null || !isValid(value)) {
      throw new IllegalArgumentException(
          "a request ID must match [A-Za-z0-9+/=._@:-]{1,200}; use RequestId.parseOrGenerate(..)"
              + " to replace invalid incoming values");
    }
    return new RequestId(value, false);
  }

  /** Whether {@code candidate} is an acceptable request ID. */
  public static boolean isValid(CharSequence candidate) {
    if (candidate == null) {
      return false;
    }
    int length = candidate.length();
    if (length == 0 || length > MAX_LENGTH) {
      return false;
    }
    for (int i = 0; i < length; i++) {
      char c = candidate.charAt(i);
      if (c >= 128 || !ALLOWED[c]) {
        return false;
      }
    }
    return true;
  }

  /** The request ID of the current context, or {@code null} when none is set. */
  public static RequestId current() {
    return Context.current().get(KEY);
  }

  /** The request ID of {@code context}, or {@code null} when none is set. */
  public static RequestId fromContext(Context context) {
    return context.get(KEY);
  }

  /** The current request ID's value, or the empty string when none is set: handy for logging. */
  public static String currentValue() {
    RequestId id = current();
    return id == null ? "" : id.value;
  }

  /** Returns a new context holding this ID; {@code context} itself is unchanged. */
  @Override
  public Context storeInContext(Context context) {
    return context.with(KEY, this);
  }

  /** The ID itself: always safe to write in a header or a log line. */
  public String value() {
    return value;
  }

  /** Whether this ID was generated here rather than accepted from the caller. */
  public boolean isGenerated() {
    return generated;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof RequestId && ((RequestId) o).value.equals(value);
  }

  @Override
  public int hashCode() {
    return value.hashCode();
  }

  @Override
  public String toString() {
    return value;
  }
}
