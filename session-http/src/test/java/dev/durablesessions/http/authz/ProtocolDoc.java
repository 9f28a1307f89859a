package dev.durablesessions.http.authz;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What docs/PROTOCOL.md says exists: the routes of §3's "Methods" table, the endpoint headings
 * (### `GET /v1/...`), and the client frame types (the "Client frames" headings and the list
 * under "Frames"). The matrix is compared with these, both ways.
 */
public final class ProtocolDoc {
  static final Path FILE = Path.of("..", "docs", "PROTOCOL.md");
  static final List<String> METHODS = List.of("GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS");

  private static final Pattern CODE = Pattern.compile("`([^`]+)`");
  private static final Pattern METHOD = Pattern.compile("\\b(" + String.join("|", METHODS) + ")\\b");
  private static final Pattern ENDPOINT_HEADING =
      Pattern.compile("^#{2,5} `(" + String.join("|", METHODS) + ") (/[^`\\s]*)`");
  private static final Pattern FRAME_HEADING = Pattern.compile("^#### `([^`]+)`");

  private final List<String> lines;

  public ProtocolDoc() {
    try {
      lines = Files.readAllLines(FILE);
    } catch (IOException e) {
      throw new UncheckedIOException("docs/PROTOCOL.md is read from the module directory", e);
    }
  }

  /**
   * Path to allowed methods, from the "Methods" table of §3. A cell may name several paths;
   * {@code …/x} is the first path's parent followed by {@code /x}. Rows without methods (the
   * "any other path" rules) are left out.
   */
  public Map<String, Set<String>> methodsTable() {
    Map<String, Set<String>> routes = new LinkedHashMap<>();
    int at = lines.indexOf("### Methods");
    if (at < 0) throw new AssertionError("docs/PROTOCOL.md has no \"### Methods\" table");
    int i = at + 1;
    while (i < lines.size() && !lines.get(i).startsWith("|")) i++;
    for (i += 2; i < lines.size() && lines.get(i).startsWith("|"); i++) {
      String[] cells = lines.get(i).split("\\|");
      List<String> paths = new ArrayList<>();
      Matcher code = CODE.matcher(cells[1]);
      while (code.find()) {
        String p = code.group(1);
        if (p.startsWith("/")) paths.add(p);
        else if (p.startsWith("…/") && !paths.isEmpty()) {
          String first = paths.get(0);
          paths.add(first.substring(0, first.lastIndexOf('/')) + p.substring(1));
        }
      }
      Set<String> methods = new LinkedHashSet<>();
      Matcher method = METHOD.matcher(cells[2]);
      while (method.find()) methods.add(method.group(1));
      if (methods.isEmpty()) continue;
      for (String p : paths) routes.computeIfAbsent(p, k -> new LinkedHashSet<>()).addAll(methods);
    }
    return routes;
  }

  /** "METHOD /path" for every route of the Methods table. */
  Set<String> routes() {
    Set<String> routes = new TreeSet<>();
    methodsTable().forEach((path, methods) -> methods.forEach(m -> routes.add(m + " " + path)));
    return routes;
  }

  /** "METHOD /path" of every endpoint heading, such as {@code ### `GET /v1/sessions/{id}`: session summary}. */
  Set<String> endpointHeadings() {
    Set<String> headings = new TreeSet<>();
    for (String line : lines) {
      Matcher m = ENDPOINT_HEADING.matcher(line);
      if (m.find()) headings.add(m.group(1) + " " + m.group(2));
    }
    return headings;
  }

  /** The frame types headed under "### Client frames" (up to the next ### section). */
  Set<String> clientFrameHeadings() {
    Set<String> frames = new TreeSet<>();
    int at = lines.indexOf("### Client frames");
    if (at < 0) throw new AssertionError("docs/PROTOCOL.md has no \"### Client frames\" section");
    for (int i = at + 1; i < lines.size() && !lines.get(i).startsWith("### ") && !lines.get(i).startsWith("## "); i++) {
      Matcher m = FRAME_HEADING.matcher(lines.get(i));
      if (m.find()) frames.add(m.group(1));
    }
    return frames;
  }

  /** The frame types of the "**Client → server**:" item under "### Frames". */
  Set<String> clientFrameList() {
    Set<String> frames = new TreeSet<>();
    int i = 0;
    while (i < lines.size() && !lines.get(i).contains("**Client → server**:")) i++;
    if (i == lines.size()) throw new AssertionError("docs/PROTOCOL.md lists no \"**Client → server**:\" frames");
    for (; i < lines.size() && !lines.get(i).contains("**Server → client**"); i++) {
      Matcher code = CODE.matcher(lines.get(i));
      while (code.find()) frames.add(code.group(1));
    }
    return frames;
  }
}
