"""Checks the Grafana dashboards in deploy/grafana against a live Prometheus and exporter.

Every query of every panel must be valid PromQL that Prometheus evaluates without error (with the
`$device` variable set to a real device and `$__range` to an hour), must name only metrics the
exporter produces (Prometheus answers a misspelt metric with an empty result, not an error), and the
panels that show fleet-wide facts must return data. Data sources are picked with the dashboard's
`datasource` variable: any fixed uid, in a panel, a target or a variable, fails the check, so the
dashboards work with whatever Prometheus a Grafana has. Grafana itself is not in Debian, so this
checks what Grafana would send to Prometheus.

usage: check-dashboards.py PROMETHEUS_URL DEVICE EXPORTER_METRICS_URL
"""
import json
import pathlib
import re
import sys
import urllib.parse
import urllib.request

root = pathlib.Path(__file__).resolve().parents[2] / "deploy" / "grafana"
prometheus, device, exporter = sys.argv[1], sys.argv[2], sys.argv[3]
VARIABLE_UIDS = {"${datasource}", "$datasource"}
problems = []
must_have_data = {"Panels online", "Running", "Every panel (click a device for its drill-down)", "Temperature",
                  "Temperature over time", "Session dose per channel", "State", "Link",
                  "Dose delivered in the time range (J/cm²)", "Software versions", "Software version"}


def exported_metrics():
    """The metric names the exporter declares (`# TYPE name type`), whether or not they have samples."""
    with urllib.request.urlopen(exporter, timeout=5) as response:
        text = response.read().decode()
    return {line.split()[2] for line in text.splitlines() if line.startswith("# TYPE ")}


def named_metrics(expr):
    """The rlt_* metric names in a PromQL expression; quoted label values are not names."""
    unquoted = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)
    return set(re.findall(r"\brlt_[a-zA-Z0-9_:]*", unquoted))


def fixed_datasources(node, where):
    """Every `datasource` in the dashboard that names something other than the `datasource` variable."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "datasource":
                uid = value.get("uid") if isinstance(value, dict) else value
                if uid not in VARIABLE_UIDS:
                    yield f"{where}: data source {json.dumps(value)} is fixed, not ${{datasource}}"
            else:
                yield from fixed_datasources(value, where)
    elif isinstance(node, list):
        for item in node:
            label = item.get("title") or item.get("name") if isinstance(item, dict) else None
            yield from fixed_datasources(item, f"{where}: {label}" if label else where)


def query(expr):
    expr = expr.replace("$device", device).replace("$__rate_interval", "1m").replace("$__range", "1h")
    url = prometheus + "/api/v1/query?" + urllib.parse.urlencode({"query": expr})
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            doc = json.load(response)
    except Exception as error:  # HTTP 400 carries Prometheus' parse error
        body = getattr(error, "read", lambda: b"")().decode()
        return None, f"{error} {body}"
    return doc["data"]["result"], None


metrics = exported_metrics()
for path in sorted((root / "dashboards").glob("*.json")):
    board = json.loads(path.read_text())
    ids = [p["id"] for p in board["panels"]]
    if len(ids) != len(set(ids)):
        problems.append(f"{path.name}: duplicate panel ids")
    variables = {v["name"]: v for v in board.get("templating", {}).get("list", [])}
    chooser = variables.get("datasource", {})
    if chooser.get("type") != "datasource" or chooser.get("query") != "prometheus":
        problems.append(f"{path.name}: no `datasource` template variable of type datasource, query prometheus")
    problems += [f"{path.name}{problem}" for problem in fixed_datasources(board, "")]
    for panel in board["panels"]:
        if "datasource" not in panel or any("datasource" not in target for target in panel["targets"]):
            problems.append(f"{path.name}: {panel['title']}: a panel or target without a data source")
        empty = True
        for target in panel["targets"]:
            names = named_metrics(target["expr"])
            unknown = sorted(names - metrics)
            if not names:
                problems.append(f"{path.name}: {panel['title']}: {target['expr']}: names no rlt_* metric")
            if unknown:
                problems.append(f"{path.name}: {panel['title']}: {target['expr']}: "
                                f"the exporter does not produce {', '.join(unknown)}")
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
