package io.tracelet.http;

import java.net.URI;
import java.util.Locale;
import java.util.Set;

/**
 * Removes credentials from {@code url.full}, as the HTTP semantic conventions ask: user info
 * becomes {@code REDACTED:REDACTED} and the values of well-known signature parameters become {@code
 * REDACTED}.
 */
final class UrlRedaction {

  private static final String REDACTED = "REDACTED";
  // The list the semantic conventions give for url.full.
  private static final Set<String> SENSITIVE_PARAMETERS =
      Set.of("awsaccesskeyid", "signature", "sig", "x-goog-signature");

  private UrlRedaction() {}

  static String redact(URI uri) {
    String userInfo = uri.getRawUserInfo();
    String query = uri.getRawQuery();
    String redactedQuery = query == null ? null : redactQuery(query);
    if (userInfo == null && (query == null || redactedQuery.equals(query))) {
      return uri.toString();
    }
    StringBuilder sb = new StringBuilder();
    if (uri.getScheme() != null) {
      sb.append(uri.getScheme()).append(':');
    }
    if (uri.getRawAuthority() != null) {
      sb.append("//");
      if (userInfo != null) {
        sb.append(REDACTED).append(':').append(REDACTED).append('@');
      }
      String host = uri.getHost();
      if (host != null) {
        sb.append(host);
        if (uri.getPort() != -1) {
          sb.append(':').append(uri.getPort());
        }
      } else {
        String authority = uri.getRawAuthority();
        sb.append(authority.substring(authority.lastIndexOf('@') + 1));
      }
    }
    if (uri.getRawPath() != null) {
      sb.append(uri.getRawPath());
    }
    if (redactedQuery != null) {
      sb.append('?').append(redactedQuery);
    }
    if (uri.getRawFragment() != null) {
      sb.append('#').append(uri.getRawFragment());
    }
    return sb.toString();
  }

  private static String redactQuery(String query) {
    StringBuilder sb = new StringBuilder(query.length());
    for (String pair : query.split("&", -1)) {
      if (sb.length() > 0) {
        sb.append('&');
      }
      int eq = pair.indexOf('=');
      String name = eq < 0 ? pair : pair.substring(0, eq);
      if (eq >= 0 && SENSITIVE_PARAMETERS.contains(name.toLowerCase(Locale.ROOT))) {
        sb.append(name).append('=').append(REDACTED);
      } else {
        sb.append(pair);
      }
    }
    return sb.toString();
  }
}
