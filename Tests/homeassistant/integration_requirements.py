"""Print the PyPI requirements of the integrations the test's Home Assistant loads at start-up.

Run with the venv's python. HA always sets up its core and default integrations (the lists in
`homeassistant.bootstrap`) plus what configuration.yaml names; every one of them, and every
integration they depend on, lists its PyPI packages in its manifest.json. Installing them in advance
lets HA start with `--skip-pip`: it then never installs anything at start-up (which would need the
network and make the test's run time depend on it).
"""

import json
import sys
from pathlib import Path

import homeassistant.bootstrap as bootstrap
import homeassistant.components as components

# Integrations the test's configuration.yaml and the MQTT config entry set up.
CONFIGURED = {"homeassistant", "http", "api", "auth", "onboarding", "config", "mqtt", "websocket_api"}


def manifest(domain: str) -> dict:
    path = Path(components.__file__).parent / domain / "manifest.json"
    return json.loads(path.read_text())


def main() -> None:
    wanted = set(CONFIGURED)
    wanted |= bootstrap.CORE_INTEGRATIONS
    wanted |= bootstrap.DEFAULT_INTEGRATIONS
    wanted |= bootstrap.LOGGING_AND_HTTP_DEPS_INTEGRATIONS
    wanted |= bootstrap.FRONTEND_INTEGRATIONS
    seen: set[str] = set()
    todo = sorted(wanted)
    while todo:
        domain = todo.pop()
        if domain in seen:
            continue
        seen.add(domain)
        info = manifest(domain)
        for dep in info.get("dependencies", []) + info.get("after_dependencies", []):
            if dep not in seen:
                todo.append(dep)
    requirements = set()
    for domain in sorted(seen):
        requirements.update(manifest(domain).get("requirements", []))
    print(f"# {len(seen)} integrations: {' '.join(sorted(seen))}", file=sys.stderr)
    for requirement in sorted(requirements):
        print(requirement)


if __name__ == "__main__":
    main()
