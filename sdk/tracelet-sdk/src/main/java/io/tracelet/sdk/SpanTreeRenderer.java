package io.tracelet.sdk;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** Draws a request's spans as a text waterfall. A pure function of its input. */
final class SpanTreeRenderer {

  /** One span as the tree shows it; {@code endEpochNanos} is -1 for a span still open. */
  record Node(
      String spanId,
      String parentSpanId,
      String name,
      long startEpochNanos,
      long endEpochNanos,
      String status) {

    boolean isOpen() {
      return endEpochNanos < 0;
    }
  }

  private SpanTreeRenderer() {}

  /**
   * Renders {@code nodes} (the root first) for trace {@code traceId}; {@code dropped} spans were
   * not recorded because of the limit {@code maxSpans}. A node whose parent is not among the nodes
   * is drawn under the root. Children are ordered by start time.
   */
  static String render(String traceId, List<Node> nodes, int dropped, int maxSpans) {
    Node root = nodes.get(0);
    Set<String> ids = new HashSet<>();
    for (Node n : nodes) {
      ids.add(n.spanId());
    }
    Map<String, List<Node>> children = new HashMap<>();
    for (int i = 1; i < nodes.size(); i++) {
      Node n = nodes.get(i);
      String parent = ids.contains(n.parentSpanId()) ? n.parentSpanId() : root.spanId();
      children.computeIfAbsent(parent, k -> new ArrayList<>()).add(n);
    }
    Comparator<Node> byStart = Comparator.comparingLong(Node::startEpochNanos);
    children.values().forEach(list -> list.sort(byStart));

    StringBuilder out = new StringBuilder(64 + nodes.size() * 80);
    out.append("span tree trace=")
        .append(traceId)
        .append(" root='")
        .append(SpanText.sanitizeName(root.name()))
        .append("' spans=")
        .append(nodes.size() + dropped)
        .append(" duration=");
    SpanText.appendMillis(out, root.endEpochNanos() - root.startEpochNanos());
    List<String> openNames = new ArrayList<>();
    draw(out, root, root.startEpochNanos(), root.endEpochNanos(), "", "", children, openNames);
    if (dropped > 0) {
      out.append("\n  ... ")
          .append(dropped)
          .append(dropped == 1 ? " more span" : " more spans")
          .append(" not recorded (limit ")
          .append(maxSpans)
          .append(" per tree)");
    }
    if (!openNames.isEmpty()) {
      out.append(
          "\n  (open = still running when the root ended; its end is logged as 'span late')");
    }
    return out.toString();
  }

  private static void draw(
      StringBuilder out,
      Node node,
      long origin,
      long rootEnd,
      String firstPrefix,
      String restPrefix,
      Map<String, List<Node>> children,
      List<String> openNames) {
    out.append('\n');
    String offset =
        SpanText.appendMillis(new StringBuilder("+"), node.startEpochNanos() - origin).toString();
    pad(out, offset, 12).append(' ');
    if (node.isOpen()) {
      openNames.add(node.name());
      pad(
              out,
              ">" + SpanText.appendMillis(new StringBuilder(), rootEnd - node.startEpochNanos()),
              12)
          .append(' ')
          .append(padRight("open", 6));
    } else {
      pad(
              out,
              SpanText.appendMillis(
                      new StringBuilder(), node.endEpochNanos() - node.startEpochNanos())
                  .toString(),
              12)
          .append(' ')
          .append(padRight(node.status(), 6));
    }
    out.append(' ').append(firstPrefix).append(SpanText.sanitizeName(node.name()));
    List<Node> kids = children.getOrDefault(node.spanId(), List.of());
    for (int i = 0; i < kids.size(); i++) {
      boolean last = i == kids.size() - 1;
      draw(
          out,
          kids.get(i),
          origin,
          rootEnd,
          restPrefix + (last ? "`- " : "+- "),
          restPrefix + (last ? "   " : "|  "),
          children,
          openNames);
    }
  }

  private static StringBuilder pad(StringBuilder out, CharSequence value, int width) {
    for (int i = value.length(); i < width; i++) {
      out.append(' ');
    }
    return out.append(value);
  }

  private static String padRight(String value, int width) {
    StringBuilder b = new StringBuilder(value);
    while (b.length() < width) {
      b.append(' ');
    }
    return b.toString();
  }
}
