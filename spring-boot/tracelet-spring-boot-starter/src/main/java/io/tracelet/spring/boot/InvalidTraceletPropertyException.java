package io.tracelet.spring.boot;

import io.tracelet.servlet.TracingConfig.Setting;

/**
 * A {@code tracelet.*} property has a value Tracelet does not accept; start-up fails with it,
 * naming the property and what it accepts.
 */
public final class InvalidTraceletPropertyException extends IllegalStateException {
  private static final long serialVersionUID = 1L;

  private final String property;

  InvalidTraceletPropertyException(
      String property, String value, Setting setting, IllegalArgumentException cause) {
    super(
        "Invalid value for property '"
            + property
            + "': "
            + quote(value)
            + " ("
            + cause.getMessage()
            + "). Accepted: "
            + setting.type()
            + ", for example '"
            + setting.example()
            + "'; the default is '"
            + setting.defaultValue()
            + "'.",
        cause);
    this.property = property;
  }

  /** The property's name, for example {@code tracelet.request-timeout}. */
  public String property() {
    return property;
  }

  private static String quote(String value) {
    // The value comes from the application's own configuration, but keep the message one line.
    String shown = value.length() > 100 ? value.substring(0, 100) + "..." : value;
    return "'" + shown.replaceAll("\\p{Cntrl}", "?") + "'";
  }
}
