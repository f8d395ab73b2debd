package io.tracelet.servlet.internal.server;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.StringJoiner;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** HTTP semantic-convention values: methods, redacted queries, bounded routes. */
final class HttpSemconv {

  private static final Logger log = LoggerFactory.getLogger(HttpSemconv.class);

  static final String OTHER_METHOD = "_OTHER";

  /** The most distinct routes used as span names; beyond it spans are named by method only. */
  static final int MAX_ROUTES = 1000;

  private static final List<String> KNOWN_METHODS =
      List.of("GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH");

  // The admitted routes, each with its span names by method (index in KNOWN_METHODS, _OTHER last),
  // built on first use: a span name is then not concatenated again for every request.
  private final ConcurrentHashMap<String, String[]> routes = new ConcurrentHashMap<>();
  private final AtomicBoolean routeLimitLogged = new AtomicBoolean();

  /** The semconv method: the method itself when well known, else {@code _OTHER}. */
  static String method(String method) {
    return method != null && KNOWN_METHODS.contains(method) ? method : OTHER_METHOD;
  }

  /**
   * The span name: {@code METHOD route}, or {@code METHOD} without a route; {@code HTTP} stands for
   * an unknown method, as the semantic conventions say.
   */
  static String spanName(String semconvMethod, String route) {
    String m = OTHER_METHOD.equals(semconvMethod) ? "HTTP" : semconvMethod;
    return route == null ? m : m + " " + route;
  }

  /** {@link #spanName}, the same String every time for an admitted route. */
  String cachedSpanName(String semconvMethod, String route) {
    String[] names = route == null ? null : routes.get(route);
    if (names == null) {
      return spanName(semconvMethod, route);
    }
    int i = KNOWN_METHODS.indexOf(semconvMethod);
    if (i < 0) {
      i = KNOWN_METHODS.size();
    }
    String name = names[i];
    if (name == null) {
      // A race builds an equal String twice at worst; Strings are safely published.
      name = spanName(semconvMethod, route);
      names[i] = name;
    }
    return name;
  }

  /**
   * Returns {@code route} if it may name spans, else {@code null}. Span names must stay few: an
   * application that sets raw paths as routes would otherwise create one name per URL, so after
   * {@value #MAX_ROUTES} distinct routes new ones are refused (and that is logged once).
   */
  String admitRoute(String route) {
    if (route == null || route.length() > 256 || !isPrintable(route, true)) {
      return null;
    }
    if (routes.containsKey(route)) {
      return route;
    }
    if (routes.size() < MAX_ROUTES) {
      // Checking the size and adding must be one step, or concurrent requests with new routes
      // could each pass the check and overshoot the limit. The lock is only taken while the map
      // fills up; once full, the unlocked check above refuses without it.
      synchronized (routes) {
        if (routes.size() < MAX_ROUTES) {
          routes.putIfAbsent(route, new String[KNOWN_METHODS.size() + 1]);
          return route;
        }
      }
    }
    if (routeLimitLogged.compareAndSet(false, true)) {
      log.warn(
          "Tracelet: more than {} distinct routes; further routes are not used in span names."
              + " Set routes as templates (/tasks/{{id}}), not as raw paths.",
          MAX_ROUTES);
    }
    return null;
  }

  /**
   * The query string with the values of sensitive parameters replaced by {@code REDACTED}; names
   * are compared case-insensitively after URL decoding.
   */
  static String redactQuery(String query, Set<String> redact) {
    if (query == null || query.isEmpty() || redact.isEmpty()) {
      return query;
    }
    StringJoiner out = new StringJoiner("&");
    for (String pair : query.split("&", -1)) {
      int eq = pair.indexOf('=');
      String rawName = eq < 0 ? pair : pair.substring(0, eq);
      String name;
      try {
        name = URLDecoder.decode(rawName, StandardCharsets.UTF_8);
      } catch (IllegalArgumentException e) {
        name = rawName;
      }
      if (eq >= 0 && redact.contains(name.toLowerCase(Locale.ROOT))) {
        out.add(rawName + "=REDACTED");
      } else {
        out.add(pair);
      }
    }
    return out.toString();
  }

  /**
   * Whether {@code s} is non-empty visible ASCII ({@code 0x21-0x7E}), with spaces ({@code 0x20})
   * too when {@code spaceOk}: never CR, LF or other control characters.
   */
  static boolean isPrintable(String s, boolean spaceOk) {
    if (s.isEmpty()) {
      return false;
    }
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c > 0x7e || c < 0x20 || (c == 0x20 && !spaceOk)) {
        return false;
      }
    }
    return true;
  }
}
