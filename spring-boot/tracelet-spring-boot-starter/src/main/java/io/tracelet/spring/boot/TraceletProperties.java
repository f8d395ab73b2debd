package io.tracelet.spring.boot;

import io.tracelet.sdk.TraceletOpenTelemetry;
import io.tracelet.servlet.TracingConfig;
import io.tracelet.servlet.TracingConfig.Setting;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;
import org.springframework.boot.context.properties.bind.Bindable;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.source.ConfigurationPropertyName;
import org.springframework.boot.context.properties.source.ConfigurationPropertySource;
import org.springframework.boot.context.properties.source.ConfigurationPropertySources;
import org.springframework.boot.context.properties.source.IterableConfigurationPropertySource;
import org.springframework.core.env.Environment;

/**
 * Reads the {@code tracelet.*} properties of the Spring environment into a {@link TracingConfig}:
 * every {@link Setting} as {@code tracelet.<key>} (so {@code application.properties}, YAML, system
 * properties and {@code TRACELET_*} environment variables all work, with Spring's relaxed binding),
 * plus the SDK set-up's {@code tracelet.span.*}.
 */
final class TraceletProperties {

  static final String PREFIX = "tracelet";

  /** Turns the whole starter off. */
  static final String ENABLED = PREFIX + ".enabled";

  /**
   * Keeps Spring Security's filter-chain observations under Micrometer Tracing (see {@code
   * TraceletAutoConfiguration.MicrometerTracing}).
   */
  static final String KEEP_SECURITY_OBSERVATIONS = PREFIX + ".keep-spring-security-observations";

  /**
   * The SDK set-up's own settings, passed to {@code TraceletOpenTelemetry}. Its constants are
   * compile-time strings, copied in by javac, so this class loads without the optional
   * tracelet-sdk.
   */
  static final List<String> SDK_PROPERTIES =
      List.of(
          TraceletOpenTelemetry.SPAN_LOG_PROPERTY,
          TraceletOpenTelemetry.SPAN_TREE_PROPERTY,
          TraceletOpenTelemetry.SPAN_TREE_MAX_SPANS_PROPERTY);

  private TraceletProperties() {}

  /** The Spring property of a setting, for example {@code tracelet.request-timeout}. */
  static String propertyName(Setting setting) {
    return PREFIX + "." + setting.key();
  }

  /** Whether a setting holds a list ({@code a,b} or, in YAML, a sequence). */
  static boolean isList(Setting setting) {
    return setting.type().startsWith("comma-separated");
  }

  /**
   * The settings bound from {@code environment} into {@code builder}.
   *
   * @throws InvalidTraceletPropertyException naming the property when a value is invalid
   */
  static TracingConfig.Builder bind(Environment environment, TracingConfig.Builder builder) {
    Binder binder = Binder.get(environment);
    for (Setting setting : Setting.values()) {
      String name = propertyName(setting);
      String value;
      if (isList(setting)) {
        value =
            binder
                .bind(name, Bindable.listOf(String.class))
                .map(list -> String.join(",", list))
                .orElse(null);
      } else {
        value = binder.bind(name, String.class).orElse(null);
      }
      if (value == null) {
        continue;
      }
      try {
        builder.set(setting, value.trim());
      } catch (IllegalArgumentException e) {
        throw new InvalidTraceletPropertyException(name, value, setting, e);
      }
    }
    return builder;
  }

  /** The {@code tracelet.*} names in the environment that no setting uses (typos, mostly). */
  static Set<String> unknownProperties(Environment environment) {
    Set<String> known = new TreeSet<>(allPropertyNames());
    ConfigurationPropertyName prefix = ConfigurationPropertyName.of(PREFIX);
    Set<String> unknown = new TreeSet<>();
    for (ConfigurationPropertySource source : ConfigurationPropertySources.get(environment)) {
      if (!(source instanceof IterableConfigurationPropertySource iterable)) {
        continue;
      }
      for (ConfigurationPropertyName name : iterable) {
        if (!prefix.isAncestorOf(name)) {
          continue;
        }
        // An indexed list element (tracelet.excluded-paths[0]) belongs to its list.
        ConfigurationPropertyName base = name;
        while (base.isLastElementIndexed()) {
          base = base.getParent();
        }
        String dotted = base.toString().toLowerCase(Locale.ROOT);
        if (!known.contains(dotted)) {
          unknown.add(dotted);
        }
      }
    }
    return unknown;
  }

  /** Every property name the starter reads, for the configuration metadata test. */
  static List<String> allPropertyNames() {
    List<String> names = new ArrayList<>();
    names.add(ENABLED);
    names.add(KEEP_SECURITY_OBSERVATIONS);
    for (Setting setting : Setting.values()) {
      names.add(propertyName(setting));
    }
    names.addAll(SDK_PROPERTIES);
    return names;
  }
}
