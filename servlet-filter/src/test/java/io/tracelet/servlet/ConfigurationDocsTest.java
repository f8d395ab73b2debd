package io.tracelet.servlet;

import static org.assertj.core.api.Assertions.assertThat;

import io.tracelet.servlet.TracingConfig.Setting;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** docs/configuration.md documents every setting, under all its names, with its real default. */
class ConfigurationDocsTest {

  @Test
  void everySetting_hasATableRowWithItsNamesAndDefault() throws Exception {
    String doc = Files.readString(Path.of("..", "docs", "configuration.md"));
    for (Setting s : Setting.values()) {
      String row =
          doc.lines()
              .filter(l -> l.startsWith("| `" + s.key() + "` |"))
              .findFirst()
              .orElseThrow(() -> new AssertionError("no row for " + s.key()));
      assertThat(row)
          .contains("`" + s.systemProperty() + "`")
          .contains("`" + s.environmentVariable() + "`");
      assertThat(row).contains(s.defaultValue().isEmpty() ? "(" : "`" + s.defaultValue() + "`");
    }
  }
}
