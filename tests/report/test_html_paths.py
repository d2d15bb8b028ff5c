"""`--format html` draws each network path as a row of boxes, one per hop, marked ✓ ✗ ? and coloured by state; the
broken hop's evidence and an unknown hop's export are text under the box; names are text, never markup; and a real
headless Chromium lays the boxes out, the broken one visible and in the colour of broken."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from conftest import INCIDENT, run_cli
from test_html import _chromium

from driftcheck.paths import BROKEN, UNKNOWN, VERIFIED, Hop, NetworkPath
from driftcheck.report import html as html_report
from driftcheck.ruleset.findings import Result


class Diagram(HTMLParser):
    """The path figures as data: per figure its service, state, caption and hops (state, kind, mark, label, why)."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.figures: list[dict[str, Any]] = []
        self.tags: list[str] = []
        self._into: list[tuple[str, str]] = []  # (tag, what its text belongs to)
        self.feed(text)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        attributes = dict(attrs)
        classes = (attributes.get("class") or "").split()
        role = ""
        if tag == "figure" and "path" in classes:
            self.figures.append(
                {
                    "service": attributes.get("data-service"),
                    "classes": classes,
                    "caption": "",
                    "hops": [],
                    "label": None,
                }
            )
        elif tag == "figcaption" and self.figures:
            role = "caption"
        elif tag == "ol" and self.figures:
            self.figures[-1]["label"] = attributes.get("aria-label")
        elif tag == "li" and "hop" in classes:
            hop = {"classes": classes, "kind": attributes.get("data-kind"), "mark": "", "label": "", "why": "",
                   "title": None, "hidden": ""}  # fmt: skip
            self.figures[-1]["hops"].append(hop)
            role = "hop"
        elif tag == "li":
            role = "ends"  # the service and the destination at either end: not hops
        elif self._role == "hop" and tag == "span" and "hop-box" in classes:
            self.figures[-1]["hops"][-1]["title"] = attributes.get("title")
            role = "label"
        elif self._role == "hop" and tag == "p" and "hop-why" in classes:
            role = "why"
        elif self._role == "label" and tag == "span":
            role = "mark" if "mark" in classes else "hidden" if "sr-only" in classes else ""
        if tag not in ("br", "meta", "col", "link"):
            self._into.append((tag, role or self._role))

    def handle_endtag(self, tag: str) -> None:
        while self._into and self._into.pop()[0] != tag:
            pass

    def handle_data(self, data: str) -> None:
        role = self._role
        if role == "caption":
            self.figures[-1]["caption"] += data
        elif role in ("mark", "label", "why", "hidden"):
            self.figures[-1]["hops"][-1][role] += data

    @property
    def _role(self) -> str:
        return self._into[-1][1] if self._into else ""


def _incident(output_format: str) -> str:
    run = run_cli("compare", "api", "auth", "--from", INCIDENT, "--format", output_format, "--fail-on", "none")
    assert run.code == 0, run.stderr
    return run.stdout


def test_each_path_a_row_of_hops_as_the_json_has_them() -> None:
    diagram, report = Diagram(_incident("html")), json.loads(_incident("json"))
    assert len(diagram.figures) == len(report["paths"]) == 2
    marks = {VERIFIED: "✓", BROKEN: "✗", UNKNOWN: "?"}
    for figure, path in zip(diagram.figures, report["paths"], strict=True):
        assert figure["service"] == path["service"] and path["state"] in figure["classes"]
        assert [h["kind"] for h in figure["hops"]] == [h["kind"] for h in path["hops"]]
        for shown, hop in zip(figure["hops"], path["hops"], strict=True):
            assert hop["state"] in shown["classes"]
            assert shown["mark"] == marks[hop["state"]]
            assert shown["label"] == hop["label"]
            assert shown["title"] == hop["detail"]  # the tooltip
            # said without colour or mark too, for a screen reader
            assert shown["hidden"] == {"verified": " (verified)", "broken": " (broken)"}.get(
                hop["state"], " (not in the evidence)"
            )
    broken = diagram.figures[0]
    assert broken["caption"] == "api → Cloud SQL staging-shared-postgres 10.20.0.3:5432: broken at vpc"
    assert broken["label"].startswith("api to Cloud SQL staging-shared-postgres 10.20.0.3:5432, hop by hop: broken")
    [vpc] = broken["hops"]
    assert vpc["why"].startswith("no connector and no Direct VPC egress")
    assert (
        "fixtures/incident/api.yaml:spec.template.metadata.annotations[run.googleapis.com/vpc-access-connector]"
        in (vpc["why"])
    )
    unknown = [h for h in diagram.figures[1]["hops"] if "unknown" in h["classes"]]
    assert [h["why"] for h in unknown] == [
        "no firewall rules in the evidence. Export: gcloud compute firewall-rules list --format=json"
    ]
    assert all(not h["why"] for h in diagram.figures[1]["hops"] if "verified" in h["classes"])


def test_no_path_no_section() -> None:
    page = html_report.render(Result("api", ("auth",), {}, ()))
    assert 'id="paths"' not in page and "<figure" not in page


def test_hostile_names_are_text() -> None:
    hostile = '<script>alert("svc")</script>'
    hop = Hop(
        "firewall-egress",
        "firewall <img src=x onerror=alert(1)>",
        UNKNOWN,
        'detail "quoted" </li></ol>',
        (),
        "gcloud x --filter='<b>bold</b>' && rm -rf /",
    )
    broken = Hop(
        "connector", "connector <iframe src=//evil>", BROKEN, "</figure><svg onload=alert(2)>", ("a<b>.yaml:x",)
    )
    path = NetworkPath(
        service=hostile, kind="private", destination="<u>db</u>", address="10.0.0.9", port=5432, named_by=("X",),
        hops=(broken, hop), state=BROKEN, breaks_at="connector", egress="all_traffic", vpc_path="connector",
        network="n", region="r", source_ranges=(), destination_network=None, line="unused",
    )  # fmt: skip
    page = html_report.render(Result("api", ("auth",), {}, (), paths=(path,)))
    diagram = Diagram(page)
    assert {"script", "img", "iframe", "svg", "b", "u"}.isdisjoint(diagram.tags)
    [figure] = diagram.figures
    assert figure["service"] == hostile
    assert figure["caption"] == f"{hostile} → <u>db</u> 10.0.0.9:5432: broken at connector"
    first, second = figure["hops"]
    assert first["label"] == "connector <iframe src=//evil>" and first["title"] == "</figure><svg onload=alert(2)>"
    assert first["why"] == "</figure><svg onload=alert(2)> (read from a<b>.yaml:x)"
    assert second["label"] == "firewall <img src=x onerror=alert(1)>"
    assert second["why"] == "detail \"quoted\" </li></ol>. Export: gcloud x --filter='<b>bold</b>' && rm -rf /"
    assert "onerror=alert(1)>" not in page.replace("&lt;img src=x onerror=alert(1)&gt;", "")


# A probe the test adds to a copy of the report (the report itself has no script): it measures each hop's box as
# laid out and writes what it found into the DOM, which --dump-dom then prints.
_PROBE = """<script>
addEventListener("load", () => {
  const boxes = [...document.querySelectorAll("figure.path li.hop")].map((li) => {
    const box = li.querySelector(".hop-box"), r = box.getBoundingClientRect(), s = getComputedStyle(box);
    return {state: li.className, kind: li.dataset.kind, x: r.left, y: r.top, width: r.width, height: r.height,
            visible: s.visibility === "visible" && s.display !== "none" && r.width > 0 && r.height > 0,
            border: s.borderTopColor, text: box.innerText,
            why: li.querySelector(".hop-why") ? li.querySelector(".hop-why").getBoundingClientRect().height : 0};
  });
  const out = document.createElement("pre");
  out.id = "probe";
  out.textContent = JSON.stringify({boxes, page: document.documentElement.scrollWidth, view: innerWidth});
  document.body.append(out);
});
</script>"""


@pytest.mark.slow  # a real browser
def test_diagram_lays_out_in_headless_chromium(tmp_path: Path) -> None:
    page = tmp_path / "incident-paths.html"
    page.write_text(_incident("html").replace("</body>", _PROBE + "</body>"))
    dumped = _chromium(
        page, tmp_path / "profile", "--dump-dom", "--window-size=1280,2000", "--virtual-time-budget=2000"
    )
    assert dumped.returncode == 0, dumped.stderr[-2000:]
    found = re.search(r'<pre id="probe">(.*?)</pre>', dumped.stdout.decode(), re.S)
    assert found, dumped.stdout.decode()[-2000:]
    probe = json.loads(found[1].replace("&quot;", '"').replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&"))
    boxes = probe["boxes"]
    assert len(boxes) == 6  # api's one hop, auth's five
    assert all(box["visible"] and box["height"] > 10 for box in boxes)
    assert probe["page"] <= probe["view"]  # no box pushes the page sideways
    [broken] = [box for box in boxes if "broken" in box["state"]]
    assert broken["kind"] == "vpc" and broken["text"].startswith("✗") and "no VPC access" in broken["text"]
    assert broken["why"] > 0  # what breaks it, shown under the box
    verified = [box for box in boxes if "verified" in box["state"]]
    unknown = [box for box in boxes if "unknown" in box["state"]]
    # each state in its own colour (light scheme: --bad, --ok, --warn)
    assert broken["border"] == "rgb(176, 0, 32)"
    assert {box["border"] for box in verified} == {"rgb(10, 107, 45)"}
    assert {box["border"] for box in unknown} == {"rgb(122, 75, 0)"}
    auth = boxes[1:]
    assert [box["x"] for box in auth[:4]] == sorted(box["x"] for box in auth[:4])  # left to right in a row
