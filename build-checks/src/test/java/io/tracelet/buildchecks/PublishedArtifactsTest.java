package io.tracelet.buildchecks;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.lang.module.ModuleFinder;
import java.lang.module.ModuleReference;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.jar.JarFile;
import java.util.stream.Collectors;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.Node;
import org.w3c.dom.NodeList;

/**
 * What Tracelet publishes, checked from the files the build produced: every published module is
 * pinned by the BOM, names its Java module, ships sources and javadoc jars, and carries the POM
 * metadata Maven Central asks for.
 */
class PublishedArtifactsTest {

  private static Path root;
  private static Document parentPom;
  private static String version;
  private static List<Module> published;

  /** A module of the build: its folder and its POM. */
  record Module(Path dir, Document pom) {
    String artifactId() {
      return child(pom.getDocumentElement(), "artifactId");
    }

    String packaging() {
      String p = child(pom.getDocumentElement(), "packaging");
      return p == null ? "jar" : p;
    }

    boolean isDeployed() {
      Element props = element(pom.getDocumentElement(), "properties");
      return props == null || !"true".equals(child(props, "maven.deploy.skip"));
    }

    Path jar(String classifier) {
      String suffix = classifier == null ? "" : "-" + classifier;
      return dir.resolve("target").resolve(artifactId() + "-" + version + suffix + ".jar");
    }
  }

  @BeforeAll
  static void readTheBuild() throws Exception {
    root = repositoryRoot();
    parentPom = parse(root.resolve("pom.xml"));
    version = child(parentPom.getDocumentElement(), "version");
    List<Module> all = new ArrayList<>();
    collectModules(root, parentPom, all);
    published = all.stream().filter(m -> m.isDeployed() && m.packaging().equals("jar")).toList();
  }

  @Test
  void thePublishedArtifacts_areTheOnesWeExpect() {
    // A new published module must be added to the BOM and to the docs: this list is the reminder.
    assertThat(published.stream().map(Module::artifactId))
        .containsExactlyInAnyOrder(
            "tracelet-core", "tracelet-sdk", "tracelet-servlet", "tracelet-spring-boot-starter");
  }

  @Test
  void theBom_pinsEveryPublishedArtifact_atTheBuildsVersion() throws Exception {
    Document bom = parse(root.resolve("bom/pom.xml"));
    Element top = bom.getDocumentElement();
    assertThat(child(top, "version")).isEqualTo(version);
    assertThat(element(top, "parent")).as("the BOM has no parent").isNull();
    Set<String> pinned = new TreeSet<>();
    NodeList deps = element(element(top, "dependencyManagement"), "dependencies").getChildNodes();
    for (int i = 0; i < deps.getLength(); i++) {
      if (deps.item(i) instanceof Element d) {
        assertThat(child(d, "groupId")).isEqualTo("io.tracelet");
        assertThat(child(d, "version")).isEqualTo("${project.version}");
        pinned.add(child(d, "artifactId"));
      }
    }
    assertThat(pinned)
        .isEqualTo(published.stream().map(Module::artifactId).collect(Collectors.toSet()));
  }

  @Test
  void everyPublishedJar_namesItsModule() {
    for (Module m : published) {
      Path jar = m.jar(null);
      assertThat(jar).as("run `./mvnw verify`: %s", jar).exists();
      Set<ModuleReference> found = ModuleFinder.of(jar).findAll();
      assertThat(found).hasSize(1);
      String name = found.iterator().next().descriptor().name();
      // Derived from the file name ("tracelet.core") if the manifest had no module name.
      assertThat(name).as(m.artifactId()).startsWith("io.tracelet.");
    }
  }

  @Test
  void everyPublishedJar_hasSourcesAndJavadocJars() throws IOException {
    for (Module m : published) {
      for (String classifier : List.of("sources", "javadoc")) {
        Path jar = m.jar(classifier);
        assertThat(jar).as("run `./mvnw verify`").exists();
        try (JarFile file = new JarFile(jar.toFile())) {
          String wanted = classifier.equals("sources") ? ".java" : "index.html";
          assertThat(file.stream().anyMatch(e -> e.getName().endsWith(wanted)))
              .as("%s has a %s", jar.getFileName(), wanted)
              .isTrue();
        }
      }
    }
  }

  @Test
  void everyPublishedPom_carriesTheMetadataMavenCentralAsksFor() throws IOException {
    Element parent = parentPom.getDocumentElement();
    for (String required : List.of("url", "licenses", "scm", "developers", "organization")) {
      assertThat(element(parent, required)).as("tracelet-parent <%s>", required).isNotNull();
    }
    assertThat(child(element(element(parent, "licenses"), "license"), "name"))
        .isEqualTo("Apache-2.0");
    assertThat(Files.readString(root.resolve("LICENSE"))).contains("Apache License");
    for (Module m : published) {
      Element top = m.pom().getDocumentElement();
      assertThat(child(top, "description")).as(m.artifactId() + " <description>").isNotBlank();
      assertThat(child(top, "name")).as(m.artifactId() + " <name>").isNotBlank();
    }
  }

  private static void collectModules(Path dir, Document pom, List<Module> out) throws Exception {
    out.add(new Module(dir, pom));
    Element modules = element(pom.getDocumentElement(), "modules");
    if (modules == null) {
      return;
    }
    NodeList list = modules.getElementsByTagName("module");
    for (int i = 0; i < list.getLength(); i++) {
      Path child = dir.resolve(list.item(i).getTextContent().trim());
      collectModules(child, parse(child.resolve("pom.xml")), out);
    }
  }

  private static Document parse(Path pom) throws Exception {
    DocumentBuilderFactory factory = DocumentBuilderFactory.newInstance();
    factory.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
    return factory.newDocumentBuilder().parse(pom.toFile());
  }

  /** The direct child element of that name, or null. */
  private static Element element(Element parent, String name) {
    if (parent == null) {
      return null;
    }
    for (Node n = parent.getFirstChild(); n != null; n = n.getNextSibling()) {
      if (n instanceof Element e && e.getTagName().equals(name)) {
        return e;
      }
    }
    return null;
  }

  private static String child(Element parent, String name) {
    Element e = element(parent, name);
    return e == null ? null : e.getTextContent().trim();
  }

  private static Path repositoryRoot() {
    Path p = Paths.get("").toAbsolutePath();
    while (p != null && !Files.exists(p.resolve(".ci/run"))) {
      p = p.getParent();
    }
    assertThat(p).as("repository root (the folder with .ci/run)").isNotNull();
    return p;
  }
}
