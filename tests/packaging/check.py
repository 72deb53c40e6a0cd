#!/usr/bin/env python3
"""Static checks of the packaging: the compose files keep the guide's layout, the Kubernetes
manifests parse and wire ports and probes right, and the Dockerfile matches what CI builds.
Prints `N passed, M failed` and exits non-zero on any failure."""
import pathlib
import re
import sys

import yaml

root = pathlib.Path(__file__).resolve().parents[2]
shared = root.parent / "shared" / "reference" / "guide-env"
passed, failed = 0, []


def check(name, ok, detail=""):
    global passed
    if ok:
        passed += 1
    else:
        failed.append(f"{name}: {detail}")


def env_file(path):
    out = {}
    for line in path.read_text().splitlines():
        if line.strip() and not line.startswith("#") and "=" in line:
            k, v = line.split("=", 1)
            out[k] = v
    return out


docker = root / "packaging" / "docker"
# the guide's files, with only the image names changed
for name in [".env", "core.env", "template.env"]:
    ours, guide = env_file(docker / name), env_file(shared / name)
    check(f"{name} keeps the guide's names", set(ours) == set(guide), f"{set(ours) ^ set(guide)}")
    changed = {k for k in guide if ours.get(k) != guide[k]}
    check(f"{name} keeps the guide's values", changed <= {"EXPRESS_MEETING_CORE_SERVICE_MAIN_IMAGE_NAME", "EXPRESS_MEETING_TEMPLATE_SERVICE_MAIN_IMAGE_NAME"}, f"{changed}")

compose = yaml.safe_load((docker / "docker-compose.yml").read_text())
svc = compose["services"]
core, tmpl, mig = svc["express-meeting-core-service-main"], svc["express-meeting-template-service-main"], svc["migrate"]
check("core port", core["ports"] == ["${EXPRESS_MEETING_CORE_SERVICE_PORT}:7100"], core["ports"])
check("template port", tmpl["ports"] == ["${EXPRESS_MEETING_TEMPLATE_SERVICE_PORT}:7200"], tmpl["ports"])
check("core env file", core["env_file"] == "${EXPRESS_MEETING_CORE_ENV_FILE}")
check("template env file", tmpl["env_file"] == "${EXPRESS_MEETING_TEMPLATE_ENV_FILE}")
check("extra hosts", core["extra_hosts"] == ["${EXPRESS_MEETING_EXTRA_HOST}", "${EXPRESS_MEETING_EXTRA_HOST2}"])
for s in (core, tmpl):
    check("log volume", "${EXPRESS_MEETING_LOGS_PATH}:${EXPRESS_MEETING_DOCKER_LOGS_PATH}" in s["volumes"], s["volumes"])
    check("waits for migrate", s["depends_on"]["migrate"]["condition"] == "service_completed_successfully")
    check("healthcheck", s["healthcheck"]["test"] == ["CMD", "xmeet", "health"])
check("roles", core["command"] == ["serve", "--role", "core"] and tmpl["command"] == ["serve", "--role", "template"])
check("migrate", mig["command"] == ["migrate"])
check("optional postgres", svc["postgres"].get("profiles") == ["postgres"])
multi = yaml.safe_load((docker / "docker-compose.multi-cts.yml").read_text())["services"]
ports = sorted(p for s in multi.values() for p in s.get("ports", []))
check("multi-CTS ports", ports == ["${EXPRESS_MEETING_TEMPLATE_SERVICE_PORT}:7200", "7100:7100", "7300:7100"], ports)
check("multi-CTS second bot", env_file(docker / "core2.env")["ExpressOptions__Uri"] != env_file(docker / "core.env")["ExpressOptions__Uri"])

k8s = root / "packaging" / "kubernetes"
docs = []
for f in sorted(k8s.glob("*.yaml")):
    for d in yaml.safe_load_all(f.read_text()):
        if d:
            docs.append(d)
kinds = {(d["kind"], d["metadata"]["name"]) for d in docs if "metadata" in d}
for want in [("Deployment", "xmeet-core"), ("Deployment", "xmeet-template"), ("Service", "xmeet-core"),
             ("Service", "xmeet-template"), ("Job", "xmeet-migrate"), ("ConfigMap", "xmeet-config"), ("Secret", "xmeet-secrets")]:
    check(f"k8s {want}", want in kinds)
kustom = yaml.safe_load((k8s / "kustomization.yaml").read_text())
check("kustomization lists every file", sorted(kustom["resources"]) == sorted(p.name for p in k8s.glob("*.yaml") if p.name != "kustomization.yaml"))
services = {d["metadata"]["name"]: d for d in docs if d["kind"] == "Service"}
for d in (d for d in docs if d["kind"] == "Deployment"):
    name = d["metadata"]["name"]
    role = name.split("-")[1]
    port = {"core": 7100, "template": 7200}[role]
    c = d["spec"]["template"]["spec"]["containers"][0]
    check(f"{name} replicas", d["spec"]["replicas"] >= 2)
    check(f"{name} args", c["args"] == ["serve", "--role", role], c["args"])
    check(f"{name} port", [p["containerPort"] for p in c["ports"]] == [port])
    check(f"{name} readiness", c["readinessProbe"]["httpGet"] == {"path": "/health/ready", "port": port})
    check(f"{name} liveness", c["livenessProbe"]["httpGet"] == {"path": "/health/live", "port": port})
    check(f"{name} selector", d["spec"]["selector"]["matchLabels"] == d["spec"]["template"]["metadata"]["labels"])
    s = services[name]
    check(f"{name} service", s["spec"]["ports"][0]["targetPort"] == port and s["spec"]["selector"] == d["spec"]["selector"]["matchLabels"])
    check(f"{name} non-root", d["spec"]["template"]["spec"]["securityContext"]["runAsNonRoot"] is True)
    check(f"{name} no auto-migrate", "auto_migrate = false" in next(x for x in docs if x["kind"] == "ConfigMap")["data"]["xmeet.toml"])
job = next(d for d in docs if d["kind"] == "Job")
check("migrate job", job["spec"]["template"]["spec"]["containers"][0]["args"] == ["migrate"])

dockerfile = (root / "Dockerfile").read_text()
cargo = (root / "Cargo.toml").read_text()
rust = re.search(r'rust-version = "([^"]+)"', cargo).group(1)
check("Dockerfile Rust version", f"ARG RUST_VERSION={rust}" in dockerfile, rust)
check("Dockerfile binary", "/src/target/release/xmeet /usr/bin/xmeet" in dockerfile)
check("Dockerfile locked build", dockerfile.count("cargo build --release --locked") == 2)
check("Dockerfile ports", "EXPOSE 7100 7200" in dockerfile)
check("Dockerfile healthcheck", 'CMD ["xmeet", "health"]' in dockerfile)
check("Dockerfile non-root", re.search(r"^USER xmeet$", dockerfile, re.M) is not None)
check("Dockerfile entrypoint", 'ENTRYPOINT ["xmeet"]' in dockerfile and 'CMD ["serve", "--role", "all"]' in dockerfile)
check("Dockerfile copies what the build needs", all(f"COPY {d} ./{d}" in dockerfile for d in ["src", "migrations", "web"]))
check("Dockerfile conf", "COPY packaging/debian/xmeet.toml /etc/xmeet/xmeet.toml" in dockerfile)
check(".dockerignore", "target" in (root / ".dockerignore").read_text().split())

print("\n".join(f"FAIL {f}" for f in failed))
print(f"{passed} passed, {len(failed)} failed")
sys.exit(1 if failed else 0)
