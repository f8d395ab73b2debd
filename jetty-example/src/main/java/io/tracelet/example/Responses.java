package io.tracelet.example;

import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.charset.StandardCharsets;

/** Writes the example's small text and JSON answers. */
final class Responses {

  private Responses() {}

  static void text(HttpServletResponse response, int status, String body) throws IOException {
    write(response, status, "text/plain;charset=utf-8", body + "\n");
  }

  static void json(HttpServletResponse response, int status, String body) throws IOException {
    write(response, status, "application/json", body);
  }

  /** {@code {"error":"<message>"}}. */
  static void jsonError(HttpServletResponse response, int status, String message)
      throws IOException {
    json(response, status, "{\"error\":" + quote(message) + "}");
  }

  /** A JSON string literal. */
  static String quote(String value) {
    StringBuilder out = new StringBuilder(value.length() + 2).append('"');
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      if (c == '"' || c == '\\') {
        out.append('\\').append(c);
      } else if (c < 0x20) {
        out.append(String.format("\\u%04x", (int) c));
      } else {
        out.append(c);
      }
    }
    return out.append('"').toString();
  }

  private static void write(HttpServletResponse response, int status, String type, String body)
      throws IOException {
    if (response.isCommitted()) {
      return;
    }
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    response.setStatus(status);
    response.setContentType(type);
    response.setContentLength(bytes.length);
    response.getOutputStream().write(bytes);
  }
}
