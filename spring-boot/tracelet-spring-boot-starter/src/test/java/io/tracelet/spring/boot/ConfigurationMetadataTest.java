package io.tracelet.spring.boot;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tracelet.servlet.TracingConfig.Setting;
import java.io.InputStream;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The metadata an IDE completes {@code tracelet.*} with lists every setting, as it is. */
class ConfigurationMetadataTest {

  private static final Map<String, JsonNode> properties = new LinkedHashMap<>();

  @BeforeAll
  static void readMetadata() throws Exception {
    try (InputStream in =
        ConfigurationMetadataTest.class.getResourceAsStream(
            "/META-INF/spring-configuration-metadata.json")) {
      assertThat(in).as("META-INF/spring-configuration-metadata.json").isNotNull();
      for (JsonNode p : new ObjectMapper().readTree(in).get("properties")) {
        properties.put(p.get("name").asText(), p);
      }
    }
  }

  @Test
  void everySetting_isDescribed_withItsDefault() {
    for (Setting setting : Setting.values()) {
      String name = "tracelet." + setting.key();
      JsonNode p = properties.get(name);
      assertThat(p).as("metadata for %s", name).isNotNull();
      assertThat(p.path("description").asText()).as("description of %s", name).isNotBlank();
      assertThat(p.path("type").asText()).as("type of %s", name).isNotBlank();
      JsonNode defaultValue = p.get("defaultValue");
      assertThat(defaultValue).as("default of %s", name).isNotNull();
      assertThat(defaultValue.asText()).as("default of %s", name).isEqualTo(setting.defaultValue());
    }
  }

  @Test
  void theMetadata_namesExactlyThePropertiesTheStarterReads() {
    assertThat(properties.keySet())
        .containsExactlyInAnyOrderElementsOf(TraceletProperties.allPropertyNames());
    for (JsonNode p : properties.values()) {
      assertThat(p.path("description").asText()).as(p.get("name").asText()).isNotBlank();
      assertThat(p.has("defaultValue")).as(p.get("name").asText()).isTrue();
    }
  }
}
