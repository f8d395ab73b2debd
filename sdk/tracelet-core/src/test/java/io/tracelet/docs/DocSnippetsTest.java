package io.tracelet.docs;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Keeps every Java sample in README.md and docs/*.md identical to code that the build compiles.
 *
 * <p>Each {@code ```java} block must be preceded by {@code <!-- snippet: path/To.java#name -->}
 * (the path from the repository root) and equal the lines between {@code // snippet: name} and
 * {@code // end-snippet} in that file, indentation removed. A sample without a marker fails.
 */
class DocSnippetsTest {

  private static final Pattern MARKER =
      Pattern.compile("<!--\\s*snippet:\\s*([^#\\s]+)#([\\w.-]+)\\s*-->");

  @Test
  void everyJavaSampleInTheDocs_isCompiledCode() throws IOException {
    Path root = repositoryRoot();
    List<Path> docs = new ArrayList<>();
    docs.add(root.resolve("README.md"));
    try (Stream<Path> s = Files.walk(root.resolve("docs"))) {
      s.filter(p -> p.toString().endsWith(".md")).sorted().forEach(docs::add);
    }
    List<String> problems = new ArrayList<>();
    int checked = 0;
    for (Path doc : docs) {
      if (!Files.exists(doc)) {
        continue;
      }
      List<String> lines = Files.readAllLines(doc);
      for (int i = 0; i < lines.size(); i++) {
        if (!lines.get(i).trim().equals("```java")) {
          continue;
        }
        String where = root.relativize(doc) + ":" + (i + 1);
        Matcher m = i > 0 ? MARKER.matcher(lines.get(i - 1)) : null;
        List<String> block = new ArrayList<>();
        int j = i + 1;
        while (j < lines.size() && !lines.get(j).trim().equals("```")) {
          block.add(lines.get(j));
          j++;
        }
        if (m == null || !m.find()) {
          problems.add(where + ": java block without a <!-- snippet: file#name --> marker");
          continue;
        }
        Path source = root.resolve(m.group(1));
        if (!Files.exists(source)) {
          problems.add(where + ": " + m.group(1) + " does not exist");
          continue;
        }
        List<String> region = region(source, m.group(2));
        if (region == null) {
          problems.add(where + ": no region '" + m.group(2) + "' in " + m.group(1));
        } else if (!dedent(region).equals(dedent(block))) {
          problems.add(
              where
                  + ": differs from "
                  + m.group(1)
                  + "#"
                  + m.group(2)
                  + "\n--- doc\n"
                  + String.join("\n", dedent(block))
                  + "\n--- code\n"
                  + String.join("\n", dedent(region)));
        }
        checked++;
      }
    }
    assertThat(problems).isEmpty();
    assertThat(checked).as("samples checked").isPositive();
  }

  static List<String> region(Path source, String name) {
    List<String> lines;
    try {
      lines = Files.readAllLines(source);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    List<String> out = null;
    for (String line : lines) {
      String t = line.trim();
      if (out == null) {
        if (t.equals("// snippet: " + name)) {
          out = new ArrayList<>();
        }
      } else if (t.equals("// end-snippet")) {
        return out;
      } else {
        out.add(line);
      }
    }
    return null;
  }

  static List<String> dedent(List<String> lines) {
    int indent = Integer.MAX_VALUE;
    for (String l : lines) {
      if (!l.isBlank()) {
        indent = Math.min(indent, l.length() - l.stripLeading().length());
      }
    }
    List<String> out = new ArrayList<>();
    for (String l : lines) {
      out.add(l.isBlank() ? "" : l.substring(indent).stripTrailing());
    }
    while (!out.isEmpty() && out.get(out.size() - 1).isEmpty()) {
      out.remove(out.size() - 1);
    }
    while (!out.isEmpty() && out.get(0).isEmpty()) {
      out.remove(0);
    }
    return out;
  }

  static Path repositoryRoot() {
    Path p = Paths.get("").toAbsolutePath();
    while (p != null && !Files.exists(p.resolve(".ci/run"))) {
      p = p.getParent();
    }
    assertThat(p).as("repository root (the folder with .ci/run)").isNotNull();
    return p;
  }
}
