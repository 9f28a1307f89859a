package dev.durablesessions.http.fuzz;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.Tuple;

/**
 * One change to a valid JSON input. Structural changes pick their place by {@code where}
 * (modulo the places the document has), so any plan applies to any document; text changes
 * ({@code TRUNCATE}, {@code INSERT}) work on the written JSON and usually break it.
 */
public record Mutation(Kind kind, int where, Object value, String key, double at) {

  public enum Kind { SET, REMOVE, ADD, NEST, WHOLE, TRUNCATE, INSERT }

  @Override
  public String toString() {
    String v = value == null ? "" : JsonText.write(value);
    if (v.length() > 60) v = v.substring(0, 60) + "...(" + v.length() + ")";
    return kind + "@" + where + (key == null ? "" : " " + key) + (value == null ? "" : " " + v);
  }

  /**
   * Plans of up to three changes; an empty plan leaves the input valid, so accepted inputs are
   * fuzzed too. {@code keys} are the field names an added field may take (the input's own, other
   * inputs', and strange ones).
   */
  public static Arbitrary<List<Mutation>> plans(int longest, List<String> keys) {
    Arbitrary<Integer> where = Arbitraries.integers().between(0, 1000);
    Arbitrary<Object> value = EdgeValues.values(longest);
    List<String> names = new ArrayList<>(keys);
    names.addAll(List.of("", "__proto__", "constructor", "$type", "type", "ref", "\u0000", "\ud800", "x".repeat(300)));
    Arbitrary<Mutation> set = Combinators.combine(where, value).as((w, v) -> new Mutation(Kind.SET, w, v, null, 0));
    Arbitrary<Mutation> remove = where.map(w -> new Mutation(Kind.REMOVE, w, null, null, 0));
    Arbitrary<Mutation> add = Combinators.combine(where, value, Arbitraries.of(names))
        .as((w, v, k) -> new Mutation(Kind.ADD, w, v, k, 0));
    Arbitrary<Mutation> nest = Combinators.combine(where, Arbitraries.of(2, 50, 999, 1500))
        .as((w, depth) -> new Mutation(Kind.NEST, w, null, null, depth));
    Arbitrary<Mutation> whole = value.map(v -> new Mutation(Kind.WHOLE, 0, v, null, 0));
    Arbitrary<Double> at = Arbitraries.doubles().between(0, 1);
    Arbitrary<Mutation> truncate = at.map(a -> new Mutation(Kind.TRUNCATE, 0, null, null, a));
    Arbitrary<Mutation> insert = Combinators.combine(at, Arbitraries.of("{", "}", "[", "\"", ",", ":", "\\", "\u0000", "\\ud800", "\n", "null", "'"))
        .as((a, s) -> new Mutation(Kind.INSERT, 0, null, s, a));
    Arbitrary<Mutation> one = Arbitraries.frequencyOf(
        Tuple.of(8, set), Tuple.of(3, remove), Tuple.of(3, add), Tuple.of(1, nest), Tuple.of(1, whole),
        Tuple.of(1, truncate), Tuple.of(1, insert));
    return Arbitraries.frequencyOf(
        Tuple.of(1, Arbitraries.just(List.<Mutation>of())),
        Tuple.of(6, one.list().ofMinSize(1).ofMaxSize(3)));
  }

  /** The input after the plan, as JSON text (not necessarily valid). */
  public static String apply(Object input, List<Mutation> plan) {
    Object doc = JsonText.copy(input);
    for (Mutation m : plan) doc = m.applyTo(doc);
    String text = JsonText.write(doc);
    for (Mutation m : plan) text = m.applyTo(text);
    return text;
  }

  /** A place in the document: a field of an object or an element of an array. */
  private record Place(Object container, Object key) {
    @SuppressWarnings("unchecked")
    Object get() {
      return container instanceof Map<?, ?> m ? m.get(key) : ((List<Object>) container).get((Integer) key);
    }

    @SuppressWarnings("unchecked")
    void set(Object v) {
      if (container instanceof Map<?, ?> m) ((Map<String, Object>) m).put((String) key, v);
      else ((List<Object>) container).set((Integer) key, v);
    }

    @SuppressWarnings("unchecked")
    void remove() {
      if (container instanceof Map<?, ?> m) m.remove(key);
      else ((List<Object>) container).remove((int) (Integer) key);
    }
  }

  private static void places(Object node, List<Place> out, List<Object> containers) {
    if (node instanceof Map<?, ?> m) {
      containers.add(node);
      for (Object k : m.keySet()) {
        out.add(new Place(node, k));
        places(m.get(k), out, containers);
      }
    } else if (node instanceof List<?> l) {
      containers.add(node);
      for (int i = 0; i < l.size(); i++) {
        out.add(new Place(node, i));
        places(l.get(i), out, containers);
      }
    }
  }

  @SuppressWarnings("unchecked")
  private Object applyTo(Object doc) {
    List<Place> places = new ArrayList<>();
    List<Object> containers = new ArrayList<>();
    places(doc, places, containers);
    switch (kind) {
      case WHOLE:
        return JsonText.copy(value);
      case SET:
      case REMOVE:
      case NEST:
        if (places.isEmpty()) return doc;
        Place p = places.get(where % places.size());
        if (kind == Kind.SET) p.set(JsonText.copy(value));
        else if (kind == Kind.REMOVE) p.remove();
        else p.set(JsonText.raw("[".repeat((int) at) + JsonText.write(p.get()) + "]".repeat((int) at)));
        return doc;
      case ADD:
        if (containers.isEmpty()) return doc;
        Object c = containers.get(where % containers.size());
        if (c instanceof Map<?, ?> m) ((Map<String, Object>) m).put(key, JsonText.copy(value));
        else ((List<Object>) c).add(JsonText.copy(value));
        return doc;
      default:
        return doc;
    }
  }

  private String applyTo(String text) {
    int i = (int) Math.min(text.length(), Math.floor(at * text.length()));
    if (kind == Kind.TRUNCATE) return text.substring(0, i);
    if (kind == Kind.INSERT) return text.substring(0, i) + key + text.substring(i);
    return text;
  }
}
