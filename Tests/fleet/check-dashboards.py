"""Checks the Grafana dashboards in deploy/grafana against a live Prometheus.

Every query of every panel must be valid PromQL that Prometheus evaluates without error (with the
`$device` variable set to a real device), the panels that show fleet-wide facts must return data,
and every panel must use the provisioned data source uid. Grafana itself is not in Debian, so this
checks what Grafana would send to Prometheus.

usage: check-dashboards.py PROMETHEUS_URL DEVICE
"""
import json
import pathlib
import sys
import urllib.parse
import urllib.request

root = pathlib.Path(__file__).resolve().parents[2] / "deploy" / "grafana"
prometheus, device = sys.argv[1], sys.argv[2]
uid = next(line.split(":", 1)[1].split("#")[0].strip()
           for line in (root / "provisioning/datasources/rlt-prometheus.yaml").read_text().splitlines()
           if line.strip().startswith("uid:"))
problems = []
must_have_data = {"Panels online", "Running", "Every panel (click a device for its drill-down)", "Temperature",
                  "Temperature over time", "Session dose per channel", "State", "Link"}


def query(expr):
    expr = expr.replace("$device", device).replace("$__rate_interval", "1m")
    url = prometheus + "/api/v1/query?" + urllib.parse.urlencode({"query": expr})
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            doc = json.load(response)
    except Exception as error:  # HTTP 400 carries Prometheus' parse error
        body = getattr(error, "read", lambda: b"")().decode()
        return None, f"{error} {body}"
    return doc["data"]["result"], None


for path in sorted((root / "dashboards").glob("*.json")):
    board = json.loads(path.read_text())
    ids = [p["id"] for p in board["panels"]]
    if len(ids) != len(set(ids)):
        problems.append(f"{path.name}: duplicate panel ids")
    for panel in board["panels"]:
        if panel["datasource"]["uid"] != uid:
            problems.append(f"{path.name}: {panel['title']}: data source uid {panel['datasource']['uid']} != {uid}")
        empty = True
        for target in panel["targets"]:
            result, error = query(target["expr"])
            if error:
                problems.append(f"{path.name}: {panel['title']}: {target['expr']}: {error}")
            elif result:
                empty = False
        if empty and panel["title"] in must_have_data:
            problems.append(f"{path.name}: {panel['title']}: no data")
    print(f"{path.name}: {len(board['panels'])} panels checked")

for problem in problems:
    print("  " + problem)
sys.exit(1 if problems else 0)
