"""``hub quality measure`` and ``hub quality report`` (text and HTML) on the fixture: the
table as counted by hand, the page self-contained and escaped, empty windows, bad input."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest

from hub.cli import main
from hub.config import PROJECT_ROOT
from hub.quality import QualityRun
from tests.quality.conftest import QualityEnv
from tests.quality.fixture import A1, B1, B1_NAME, LATER

WINDOW = ("--from", "2026-06-29", "--to", "2026-07-02")


def _report(quality: QualityEnv, capsys: pytest.CaptureFixture[str],
            monkeypatch: pytest.MonkeyPatch, *args: str) -> tuple[int, str, str]:
    monkeypatch.setenv("HUB_DATABASE_URL", quality.databases.national)
    capsys.readouterr()
    code = main(["quality", "report", *args])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_text_report_as_counted(quality: QualityEnv, runs: tuple[QualityRun, QualityRun],
                                capsys: pytest.CaptureFixture[str],
                                monkeypatch: pytest.MonkeyPatch) -> None:
    code, out, _ = _report(quality, capsys, monkeypatch, "--agency", A1, *WINDOW)
    assert code == 0
    assert out == """\
Data quality of agency 000.00.01.G02 — Vụ Tổ chức cán bộ
window: 2026-06-29T00:00+00:00 to 2026-07-02T00:00+00:00
2 run(s), the latest at 2026-07-01T00:00+00:00

dimension     source      latest  passed/checked  change   measured at
completeness  national    0.9848  65/66           +0.0000  2026-07-01T00:00+00:00
completeness  mof-hrmis   0.9818  54/55           +0.0000  2026-07-01T00:00+00:00
validity      national    0.9000  36/40           +0.0000  2026-07-01T00:00+00:00
validity      mof-hrmis   0.9333  28/30           +0.0000  2026-07-01T00:00+00:00
uniqueness    national    0.8333  5/6             +0.0000  2026-07-01T00:00+00:00
uniqueness    mof-hrmis   0.8000  4/5             +0.0000  2026-07-01T00:00+00:00
consistency   population  0.8846  23/26           +0.0000  2026-07-01T00:00+00:00
consistency   mof-hrmis   0.9130  42/46           +0.0000  2026-07-01T00:00+00:00
timeliness    national    0.5000  3/6             -0.1667  2026-07-01T00:00+00:00
timeliness    mof-hrmis   0.6000  3/5             +0.0000  2026-07-01T00:00+00:00
"""


def test_text_report_of_an_authority_and_a_hostile_name(
        quality: QualityEnv, runs: tuple[QualityRun, QualityRun],
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    code, out, _ = _report(quality, capsys, monkeypatch, "--agency", "G02", *WINDOW)
    assert code == 0
    assert out.startswith("Data quality of reporting authority G02 — Bộ Tài chính\n")
    assert "consistency   mof-hrmis   0.9130  42/46" in out
    code, out, _ = _report(quality, capsys, monkeypatch, "--agency", B1, *WINDOW)
    assert code == 0
    # printed as text, the escape sequence shown, not acted on
    assert "\x1b" not in out
    assert out.splitlines()[0] == (f"Data quality of agency {B1} — "
                                   + B1_NAME.replace("\x1b", "\ufffd"))
    assert "timeliness    hanoi-hrm   0.0000  0/2" in out


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attributes: list[tuple[str, str | None]] = []
        self.text: dict[str, str] = {}
        self._open: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attributes.extend(attrs)
        self._open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if self._open and self._open[-1] == tag:
            self._open.pop()

    def handle_data(self, data: str) -> None:
        if self._open:
            self.text[self._open[-1]] = self.text.get(self._open[-1], "") + data


def _self_contained(page: str) -> _Page:
    parsed = _Page()
    parsed.feed(page)
    assert "script" not in parsed.tags
    for name, value in parsed.attributes:
        assert name not in ("src", "href"), (name, value)
        assert not name.startswith("on"), (name, value)
        assert value is None or "http" not in value or value == "http://www.w3.org/2000/svg"
    return parsed


def test_html_report_is_self_contained_and_escaped(
        quality: QualityEnv, runs: tuple[QualityRun, QualityRun], tmp_path: Path,
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    out_file = tmp_path / "b1.html"
    code, _, err = _report(quality, capsys, monkeypatch, "--agency", B1, *WINDOW,
                           "--format", "html", "--out", str(out_file))
    assert code == 0
    assert "wrote" in err
    page = out_file.read_text(encoding="utf-8")
    parsed = _self_contained(page)
    # the hostile name is text in the page, markup escaped, never markup itself
    shown = B1_NAME.replace("\x1b", "\ufffd")
    assert parsed.text["h1"] == f"Data quality — {shown} ({B1})"
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &#39;Nội vụ&#39;" in page
    assert parsed.tags.count("svg") == 5  # a chart per dimension
    assert [t for t in parsed.tags if t == "h2"] == ["h2"] * 5
    assert "hanoi-hrm" in page
    assert "never synchronised" not in page


def test_reports_show_what_was_not_measured(
        sources_up: QualityEnv, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    sources_up.sandbox.switch("population", outage=True)
    sources_up.measure(agencies=[A1], now=LATER + timedelta(days=10))
    window = ("--from", "2026-08-11", "--to", "2026-08-12")
    code, out, _ = _report(sources_up, capsys, monkeypatch, "--agency", A1, *window)
    assert code == 0
    assert "consistency   population  not measured" in out
    assert "\n\nnot measured:\n  consistency / population: SOURCE_UNAVAILABLE: " in out, out
    code, page, _ = _report(sources_up, capsys, monkeypatch, "--agency", A1, *window,
                            "--format", "html")
    assert code == 0
    _self_contained(page)
    assert page.count('<tr class="not-measured">') == 1
    assert "population, 2026-08-11T00:00+00:00: not measured: SOURCE_UNAVAILABLE" in page
    # a single run still draws every chart (one point per source)
    assert page.count("<svg") == 5


def test_empty_window(quality: QualityEnv, runs: tuple[QualityRun, QualityRun],
                      capsys: pytest.CaptureFixture[str],
                      monkeypatch: pytest.MonkeyPatch) -> None:
    window = ("--from", "2020-01-01", "--to", "2021-01-01T00:00:00+07:00")
    code, out, _ = _report(quality, capsys, monkeypatch, "--agency", A1, *window)
    assert code == 0
    assert out.endswith("no measures in this window (run `hub quality measure`, or widen "
                        "it)\n")
    code, page, _ = _report(quality, capsys, monkeypatch, "--agency", A1, *window,
                            "--format", "html")
    assert code == 0
    parsed = _self_contained(page)
    assert "svg" not in parsed.tags
    assert "table" not in parsed.tags
    assert "No measures in this window" in page


@pytest.mark.parametrize(("args", "message"), [
    (("--agency", "000.00.99.G02"), "no agency or authority 000.00.99.G02"),
    (("--agency", "G99"), "no agency or authority G99"),
    (("--agency", "'; DROP TABLE quality_measure; --"), "no agency or authority"),
    (("--agency", A1, "--from", "yesterday"), "--from 'yesterday' is not a date"),
    (("--agency", A1, "--to", "2026-13-01"), "--to '2026-13-01' is not a date"),
    (("--agency", A1, "--from", "2026-07-01", "--to", "2026-07-01"),
     "--from must be earlier than --to"),
])
def test_bad_questions(quality: QualityEnv, capsys: pytest.CaptureFixture[str],
                       monkeypatch: pytest.MonkeyPatch, args: tuple[str, ...],
                       message: str) -> None:
    code, out, err = _report(quality, capsys, monkeypatch, *args)
    assert code == 2
    assert out == ""
    assert err.startswith("hub quality: "), err
    assert message in err, err
    assert quality.fetch("SELECT count(*) AS n FROM quality_measure")[0]["n"] > 0


def _hub(quality: QualityEnv, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **quality.source_env, "HUB_DATABASE_URL": quality.databases.national}
    return subprocess.run([sys.executable, "-m", "hub", "quality", *args], cwd=PROJECT_ROOT,
                          env=env, capture_output=True, text=True, timeout=120, check=False)


def test_measure_command(sources_up: QualityEnv) -> None:
    done = _hub(sources_up, "measure", "--agency", "H01", "--progress")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("run ")
    assert ": 2 agencies, 30 measures (20 measured, 10 empty, 0 not measured) in " \
        in done.stdout, done.stdout
    run_id = done.stdout.split()[1].rstrip(":")
    rows = sources_up.fetch("SELECT agency_code, source, dimension, numerator, denominator "
                            "FROM quality_measure WHERE run_id = $1::uuid AND scope = "
                            "'authority' ORDER BY 2, 3", run_id)
    assert [(r["source"], r["dimension"], r["numerator"], r["denominator"]) for r in rows
            if r["source"] == "hanoi-hrm"] == [
        ("hanoi-hrm", "completeness", 22, 22), ("hanoi-hrm", "consistency", 17, 18),
        ("hanoi-hrm", "timeliness", 0, 2), ("hanoi-hrm", "uniqueness", 2, 2),
        ("hanoi-hrm", "validity", 11, 12)]


def test_measure_command_bad_questions(quality: QualityEnv) -> None:
    nothing = _hub(quality, "measure")
    assert nothing.returncode == 2
    assert "name the agencies to measure" in nothing.stderr
    unknown = _hub(quality, "measure", "--agency", "G77", "--agency", A1)
    assert unknown.returncode == 2
    assert "no agency or authority G77" in unknown.stderr
    both = _hub(quality, "measure", "--all", "--agency", A1)
    assert both.returncode == 2
    zero = _hub(quality, "measure", "--all", "--within-days", "0")
    assert zero.returncode == 2
