package dev.durablesessions.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.io.InputStream;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.yaml.snakeyaml.Yaml;

/** The manifests in k8s/ parse and agree with the code: ports, probe paths, discovery labels, env names, secrets. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class KubernetesManifestsTest {
  final List<Map<String, Object>> docs = new ArrayList<>();
  final Config reference = ConfigFactory.load();

  @BeforeAll
  void load() throws Exception {
    Path dir = Path.of("..", "k8s");
    assertTrue(Files.isDirectory(dir), "k8s/ next to the modules");
    try (var files = Files.list(dir)) {
      for (Path f : files.filter(p -> p.toString().endsWith(".yaml")).sorted().toList()) {
        for (Object doc : new Yaml().loadAll(Files.readString(f))) {
          if (doc != null) docs.add(cast(doc));
        }
      }
    }
  }

  @SuppressWarnings("unchecked")
  static Map<String, Object> cast(Object o) {
    return (Map<String, Object>) o;
  }

  @SuppressWarnings("unchecked")
  static List<Object> list(Object o) {
    return (List<Object>) o;
  }

  Map<String, Object> find(String kind, String name) {
    for (Map<String, Object> d : docs) {
      if (kind.equals(d.get("kind")) && name.equals(cast(d.get("metadata")).get("name"))) return d;
    }
    throw new AssertionError("no " + kind + " " + name + " in k8s/");
  }

  Map<String, Object> container() {
    Map<String, Object> spec = cast(cast(cast(find("Deployment", "durable-sessions").get("spec")).get("template")).get("spec"));
    return cast(list(spec.get("containers")).get(0));
  }

  Map<String, Object> podLabels() {
    return cast(cast(cast(cast(find("Deployment", "durable-sessions").get("spec")).get("template")).get("metadata")).get("labels"));
  }

  int port(String name) {
    for (Object p : list(container().get("ports"))) if (name.equals(cast(p).get("name"))) return (Integer) cast(p).get("containerPort");
    throw new AssertionError("no container port " + name);
  }

  String env(String name) {
    for (Object e : list(container().get("env"))) if (name.equals(cast(e).get("name"))) return (String) cast(e).get("value");
    return null;
  }

  Config configMapConfig() {
    return ConfigFactory.parseString((String) cast(find("ConfigMap", "durable-sessions-config").get("data")).get("application.conf"));
  }

  @Test
  void portsAgreeWithTheConfigTheNodeReads() {
    assertEquals(reference.getInt("durable-sessions.http.port"), port("http"));
    assertEquals(reference.getInt("pekko.management.http.port"), port("management"));
    assertEquals(reference.getInt("pekko.remote.artery.canonical.port"), port("remoting"));
    assertEquals(String.valueOf(port("http")), env("DS_HTTP_PORT"));
    assertEquals(String.valueOf(port("management")), env("DS_MANAGEMENT_PORT"));
    assertEquals(String.valueOf(port("remoting")), env("DS_REMOTE_PORT"));
  }

  @Test
  void probesUseTheManagementHealthChecks() {
    Map<String, Object> readiness = cast(cast(container().get("readinessProbe")).get("httpGet"));
    Map<String, Object> liveness = cast(cast(container().get("livenessProbe")).get("httpGet"));
    assertEquals("/" + reference.getString("pekko.management.health-checks.readiness-path"), readiness.get("path"));
    assertEquals("/" + reference.getString("pekko.management.health-checks.liveness-path"), liveness.get("path"));
    assertEquals("management", readiness.get("port"));
    assertEquals("management", liveness.get("port"));
    assertTrue(reference.hasPath("pekko.management.health-checks.readiness-checks.http-bound"));
  }

  @Test
  void discoveryFindsThePodsByTheirLabelsAndPortName() {
    Config k8s = configMapConfig().withFallback(reference).resolve();
    assertTrue(k8s.getBoolean("durable-sessions.cluster.bootstrap"));
    String method = k8s.getString("pekko.management.cluster.bootstrap.contact-point-discovery.discovery-method");
    assertEquals("kubernetes-api", method);
    String service = k8s.getString("pekko.management.cluster.bootstrap.contact-point-discovery.service-name");
    String selector = String.format(k8s.getString("pekko.discovery.kubernetes-api.pod-label-selector"), service);
    String[] kv = selector.split("=");
    assertEquals(kv[1], podLabels().get(kv[0]), "pods carry the label discovery selects on: " + selector);
    port(k8s.getString("pekko.management.cluster.bootstrap.contact-point-discovery.port-name"));
    int replicas = (Integer) cast(find("Deployment", "durable-sessions").get("spec")).get("replicas");
    assertTrue(k8s.getInt("pekko.management.cluster.bootstrap.contact-point-discovery.required-contact-point-nr") <= replicas);
    Map<String, Object> pdb = cast(find("PodDisruptionBudget", "durable-sessions").get("spec"));
    int minAvailable = (Integer) pdb.get("minAvailable");
    assertTrue(minAvailable > replicas / 2 && minAvailable < replicas, "a majority stays through drains, and drains are possible");
    assertEquals(podLabels().get("app"), cast(cast(pdb.get("selector")).get("matchLabels")).get("app"));
    assertEquals(podLabels().get("app"), cast(cast(find("Service", "durable-sessions").get("spec")).get("selector")).get("app"));
  }

  @Test
  void discoveryMayListPods() {
    String account = (String) cast(cast(cast(find("Deployment", "durable-sessions").get("spec")).get("template")).get("spec")).get("serviceAccountName");
    find("ServiceAccount", account); // throws if the Deployment names an account that does not exist
    Map<String, Object> rule = cast(list(find("Role", "durable-sessions-pod-reader").get("rules")).get(0));
    assertTrue(list(rule.get("resources")).contains("pods"));
    assertTrue(list(rule.get("verbs")).containsAll(List.of("get", "watch", "list")));
    Map<String, Object> subject = cast(list(find("RoleBinding", "durable-sessions-read-pods").get("subjects")).get(0));
    assertEquals(account, subject.get("name"));
  }

  @Test
  void everyEnvironmentVariableIsOneTheNodeReadsAndEverySecretExists() throws Exception {
    Set<String> read = new HashSet<>(Set.of("DS_CONFIG")); // Node.loadConfig reads DS_CONFIG itself
    Pattern substitution = Pattern.compile("\\$\\{\\?(DS_[A-Z_]+)}");
    Enumeration<URL> refs = getClass().getClassLoader().getResources("reference.conf");
    while (refs.hasMoreElements()) {
      try (InputStream in = refs.nextElement().openStream()) {
        Matcher m = substitution.matcher(new String(in.readAllBytes(), StandardCharsets.UTF_8));
        while (m.find()) read.add(m.group(1));
      }
    }
    Map<String, Object> secret = cast(find("Secret", "durable-sessions-secrets").get("stringData"));
    for (Object e : list(container().get("env"))) {
      Map<String, Object> var = cast(e);
      String name = (String) var.get("name");
      if (name.startsWith("DS_")) assertTrue(read.contains(name), name + " is not read by any module's configuration");
      Object from = var.get("valueFrom");
      if (from != null && cast(from).containsKey("secretKeyRef")) {
        Map<String, Object> ref = cast(cast(from).get("secretKeyRef"));
        assertEquals("durable-sessions-secrets", ref.get("name"));
        assertTrue(secret.containsKey(ref.get("key")), "secret key " + ref.get("key"));
      }
    }
    String dbHost = env("DS_DB_URL").replaceFirst("jdbc:postgresql://", "").split(":")[0];
    find("Service", dbHost); // DS_DB_URL must point at the development PostgreSQL service: throws otherwise
  }
}
