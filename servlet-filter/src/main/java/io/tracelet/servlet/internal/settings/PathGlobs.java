package io.tracelet.servlet.internal.settings;

import java.util.List;
import java.util.regex.Pattern;

/**
 * Matches paths against globs: {@code *} matches within one segment, {@code **} across segments, so
 * {@code /metrics/**} matches {@code /metrics} and everything below it.
 */
public final class PathGlobs {

  private static final PathGlobs NONE = new PathGlobs(null);

  private final Pattern pattern;

  private PathGlobs(Pattern pattern) {
    this.pattern = pattern;
  }

  static PathGlobs parse(List<String> globs, String setting, String source) {
    if (globs.isEmpty()) {
      return NONE;
    }
    StringBuilder regex = new StringBuilder();
    for (String glob : globs) {
      if (!glob.startsWith("/") || glob.length() > 200) {
        throw SettingParsers.invalid(
            setting,
            String.join(",", globs),
            source,
            "comma-separated path globs starting with '/', such as /health,/metrics/**");
      }
      if (regex.length() > 0) {
        regex.append('|');
      }
      regex.append(toRegex(glob));
    }
    return new PathGlobs(Pattern.compile(regex.toString()));
  }

  private static String toRegex(String glob) {
    StringBuilder sb = new StringBuilder("(?:");
    int i = 0;
    while (i < glob.length()) {
      char c = glob.charAt(i);
      if (c == '/' && glob.startsWith("/**", i) && i + 3 == glob.length()) {
        // A trailing "/**" also matches the directory itself.
        sb.append("(?:/.*)?");
        i += 3;
      } else if (c == '*' && glob.startsWith("**", i)) {
        sb.append(".*");
        i += 2;
      } else if (c == '*') {
        sb.append("[^/]*");
        i++;
      } else {
        sb.append(Pattern.quote(String.valueOf(c)));
        i++;
      }
    }
    return sb.append(')').toString();
  }

  /** Whether no glob was given: nothing matches, and the path need not be worked out. */
  public boolean isEmpty() {
    return pattern == null;
  }

  public boolean matches(String path) {
    return pattern != null && pattern.matcher(path).matches();
  }
}
