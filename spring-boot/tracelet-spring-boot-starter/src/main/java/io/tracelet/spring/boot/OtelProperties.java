package io.tracelet.spring.boot;

import java.util.Set;
import java.util.TreeSet;
import org.springframework.core.env.ConfigurableEnvironment;
import org.springframework.core.env.EnumerablePropertySource;
import org.springframework.core.env.Environment;
import org.springframework.core.env.PropertySource;
import org.springframework.core.env.StandardEnvironment;

/**
 * The {@code otel.*} properties written in the application's own configuration files, so that
 * {@code otel.exporter.otlp.endpoint} in {@code application.properties} reaches the SDK set-up as
 * it would as a system property. Environment variables and system properties are read by
 * OpenTelemetry itself.
 */
final class OtelProperties {
  private OtelProperties() {}

  static Set<String> names(Environment environment) {
    Set<String> names = new TreeSet<>();
    if (!(environment instanceof ConfigurableEnvironment configurable)) {
      return names;
    }
    for (PropertySource<?> source : configurable.getPropertySources()) {
      String sourceName = source.getName();
      if (sourceName.equals(StandardEnvironment.SYSTEM_ENVIRONMENT_PROPERTY_SOURCE_NAME)
          || sourceName.equals(StandardEnvironment.SYSTEM_PROPERTIES_PROPERTY_SOURCE_NAME)) {
        continue;
      }
      if (source instanceof EnumerablePropertySource<?> enumerable) {
        for (String name : enumerable.getPropertyNames()) {
          if (name.startsWith("otel.")) {
            names.add(name);
          }
        }
      }
    }
    return names;
  }
}
