package io.tracelet.servlet;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A minimal HTTP/1.1 client over a raw socket, so tests control every byte of the request: repeated
 * headers, header-name case, whitespace.
 */
final class RawHttp {

  private RawHttp() {}

  record Response(int status, List<String[]> headers, String body) {
    String header(String name) {
      for (String[] h : headers) {
        if (h[0].equalsIgnoreCase(name)) {
          return h[1];
        }
      }
      return null;
    }

    List<String> headers(String name) {
      List<String> out = new ArrayList<>();
      for (String[] h : headers) {
        if (h[0].equalsIgnoreCase(name)) {
          out.add(h[1]);
        }
      }
      return out;
    }

    /** The echo servlet's body as key=value lines. */
    Map<String, String> echo() {
      Map<String, String> out = new LinkedHashMap<>();
      for (String line : body.split("\n")) {
        int eq = line.indexOf('=');
        if (eq > 0) {
          out.put(line.substring(0, eq), line.substring(eq + 1));
        }
      }
      return out;
    }
  }

  /** Sends {@code method path} with the given header lines ({@code "Name: value"}). */
  static Response send(int port, String method, String path, String... headerLines)
      throws IOException {
    try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), port)) {
      socket.setSoTimeout(20_000);
      StringBuilder req = new StringBuilder();
      req.append(method).append(' ').append(path).append(" HTTP/1.1\r\n");
      req.append("Host: 127.0.0.1:").append(port).append("\r\n");
      for (String h : headerLines) {
        req.append(h).append("\r\n");
      }
      req.append("Connection: close\r\n\r\n");
      OutputStream out = socket.getOutputStream();
      out.write(req.toString().getBytes(StandardCharsets.ISO_8859_1));
      out.flush();
      return read(socket.getInputStream());
    }
  }

  /**
   * Sends {@code method path} with one header whose value is given as raw bytes, for bytes a client
   * library would refuse to send (control characters, bare CR or LF, UTF-8 sequences).
   */
  static Response sendRawHeader(
      int port, String method, String path, String name, byte[] value, String... headerLines)
      throws IOException {
    try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), port)) {
      socket.setSoTimeout(20_000);
      OutputStream out = socket.getOutputStream();
      StringBuilder head = new StringBuilder();
      head.append(method).append(' ').append(path).append(" HTTP/1.1\r\n");
      head.append("Host: 127.0.0.1:").append(port).append("\r\n");
      for (String h : headerLines) {
        head.append(h).append("\r\n");
      }
      out.write(head.toString().getBytes(StandardCharsets.ISO_8859_1));
      out.write((name + ": ").getBytes(StandardCharsets.ISO_8859_1));
      out.write(value);
      out.write("\r\nConnection: close\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
      out.flush();
      return read(socket.getInputStream());
    }
  }

  private static Response read(InputStream in) throws IOException {
    ByteArrayOutputStream all = new ByteArrayOutputStream();
    in.transferTo(all);
    String raw = all.toString(StandardCharsets.ISO_8859_1);
    int end = raw.indexOf("\r\n\r\n");
    if (end < 0) {
      throw new IOException("no complete response: " + raw);
    }
    String[] lines = raw.substring(0, end).split("\r\n");
    int status = Integer.parseInt(lines[0].split(" ")[1]);
    List<String[]> headers = new ArrayList<>();
    boolean chunked = false;
    for (int i = 1; i < lines.length; i++) {
      int colon = lines[i].indexOf(':');
      String name = lines[i].substring(0, colon).trim();
      String value = lines[i].substring(colon + 1).trim();
      headers.add(new String[] {name, value});
      if (name.equalsIgnoreCase("Transfer-Encoding")
          && value.toLowerCase(Locale.ROOT).contains("chunked")) {
        chunked = true;
      }
    }
    String body = raw.substring(end + 4);
    if (chunked) {
      body = dechunk(body);
    }
    return new Response(
        status,
        headers,
        new String(body.getBytes(StandardCharsets.ISO_8859_1), StandardCharsets.UTF_8));
  }

  private static String dechunk(String s) {
    StringBuilder out = new StringBuilder();
    int pos = 0;
    while (pos < s.length()) {
      int lineEnd = s.indexOf("\r\n", pos);
      if (lineEnd < 0) {
        break;
      }
      String sizeField = s.substring(pos, lineEnd).split(";")[0].trim();
      int size = Integer.parseInt(sizeField, 16);
      if (size == 0) {
        break;
      }
      out.append(s, lineEnd + 2, lineEnd + 2 + size);
      pos = lineEnd + 2 + size + 2;
    }
    return out.toString();
  }
}
