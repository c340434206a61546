"""`ck dashboard request.asplos18`: the page in a real headless Chromium, the PNG, and --serve over HTTP."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from PIL import Image

from ckrequest.board.dashboard import embed_json

from builders import our_point, record_synthetic_mobilenet, write_experiment, write_original_results, write_results_repo

EVIL_ENTRY = "x<img src=x onerror=window.pwned=1>"
EVIL_MODEL = "</script><script>window.pwned=2</script><b>bold</b>"


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    repo = write_original_results(tmp_path_factory.mktemp("results"))
    write_experiment(repo, EVIL_ENTRY, {"e1": our_point(design_name=EVIL_MODEL, arch="", latency_s=0.5, top1=0.1)})
    return repo


def scoreboard_json(world, results, *flags: str) -> list[dict]:
    proc = world.ck("scoreboard", "request.asplos18", f"--results_repo={results}", "--format=json", *flags)
    return json.loads(proc.stdout)


def front_ids(page) -> set[str]:
    return set(page.eval_on_selector_all("#scatter .point.pareto", "els => els.map(e => e.getAttribute('data-id'))"))


def tooltip_over(page, point_id: str) -> str:
    """Move the mouse to the centre of a point, as a user would (another point may be drawn over it)."""
    box = page.locator(f'#scatter .point[data-id="{point_id}"]').bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.wait_for_selector("#tooltip:not([hidden])")
    return page.text_content("#tooltip")


def open_dashboard(world, browser, page_path: Path, *flags: str):
    """``ck dashboard`` into ``page_path``, opened in Chromium once its script has drawn the page."""
    world.ck("dashboard", "request.asplos18", f"--output={page_path}", *flags)
    page = browser.new_page()
    page.goto(page_path.as_uri())
    page.wait_for_selector("body[data-ready=yes]")
    return page


def test_embedded_json_cannot_close_its_element_or_open_markup():
    data = {"name": EVIL_MODEL + " & \u2028\u2029 <!-- -->"}
    text = embed_json(data)
    assert not any(ch in text for ch in "<>&\u2028\u2029")
    assert json.loads(text) == data


def test_dashboard_in_chromium_switches_axes_marks_the_frontier_and_shows_markup_as_text(
        ck_world, results, browser, tmp_path):
    record_synthetic_mobilenet(ck_world, "board-mobilenet-synthetic")
    page_path, png = tmp_path / "board.html", tmp_path / "board.png"
    proc = ck_world.ck("dashboard", "request.asplos18", f"--results_repo={results}", f"--output={page_path}",
                       f"--png={png}")
    assert f"wrote {page_path}" in proc.stdout and "broken-upload" in proc.stderr
    expected = scoreboard_json(ck_world, results)

    page = browser.new_page()
    requests, errors = [], []
    page.on("request", lambda r: requests.append(r.url))
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(page_path.as_uri())
    page.wait_for_selector("body[data-ready=yes]")
    assert errors == [] and requests == [page_path.as_uri()]  # nothing fetched from anywhere
    assert page.locator("#points tbody tr").count() == len(expected)
    assert front_ids(page) == {p["id"] for p in expected if p["pareto"]}
    assert page.locator("#frontier-line").count() == (1 if sum(p["pareto"] for p in expected) > 1 else 0)

    page.select_option("#x-metric", "inference_throughput")
    page.select_option("#y-metric", "model_size")
    switched = scoreboard_json(ck_world, results, "--x=inference_throughput", "--y=model_size")
    assert front_ids(page) == {p["id"] for p in switched if p["pareto"]}
    assert "throughput" in page.text_content("#x-label") and "model size" in page.text_content("#y-label")

    assert page.evaluate("window.pwned") is None and page.locator("img, b").count() == 0
    evil_row = page.locator("#points tbody tr", has_text=EVIL_ENTRY)
    assert evil_row.count() == 1 and EVIL_MODEL in evil_row.text_content()
    ours = next(p for p in expected if p["entry"] == "board-mobilenet-synthetic")
    assert page.locator(f'#scatter .point.synthetic[data-id="{ours["id"]}"]').count() == 1
    assert "validated" in page.locator("#points tbody tr", has_text="validated-tvm-fpga-resnet18").text_content()
    assert "broken-upload" in page.text_content("#skipped")

    tip = tooltip_over(page, ours["id"])
    assert ours["entry"] in tip and "synthetic weights: speed only, no accuracy" in tip
    assert "dependencies: " in tip and "ONNX Runtime" in tip
    page.close()

    with Image.open(png) as image:
        assert image.format == "PNG" and image.size[0] >= 800
        assert sum(1 for count in image.convert("L").histogram() if count) > 10  # a drawing, not a blank canvas


def test_the_tooltip_lists_every_point_under_the_cursor(ck_world, browser, tmp_path):
    repo = write_results_repo(tmp_path / "results", "coincident-results")
    for name in ("first-run", "replayed-run"):  # a replay lands on the very same spot
        write_experiment(repo, name, {"p1": our_point(latency_s=0.02, top1=0.7)}, tags=("coincident",))
    write_experiment(repo, "elsewhere", {"p1": our_point(latency_s=0.2, top1=0.6)}, tags=("coincident",))
    page = open_dashboard(ck_world, browser, tmp_path / "board.html", f"--results_repo={repo}", "--tags=coincident")
    ids = {p["entry"]: p["id"] for p in json.loads(page.text_content("#board-data"))["points"]}
    tip = tooltip_over(page, ids["first-run"])
    assert tip.startswith("2 points here") and "first-run" in tip and "replayed-run" in tip
    assert "elsewhere" not in tip
    assert "elsewhere" in tooltip_over(page, ids["elsewhere"]) and "first-run" not in page.text_content("#tooltip")
    page.close()


def test_an_invalid_loadgen_point_is_marked_and_never_on_the_frontier(ck_world, browser, tmp_path):
    repo = write_results_repo(tmp_path / "loadgen-results", "loadgen-results")
    invalid = our_point(latency_s=0.001, top1=None, **{
        "##features#scenario#min": "Server", "##characteristics#run#loadgen_valid#all": [0, 0, 0],
        "##characteristics#run#loadgen_early_stopping_met#all": [0, 1, 1]})
    write_experiment(repo, "fast-but-invalid", {"p": invalid}, tags=("loadgen-test",))
    write_experiment(repo, "slow-native", {"p": our_point(latency_s=0.004, top1=None)}, tags=("loadgen-test",))
    page = open_dashboard(ck_world, browser, tmp_path / "board.html", f"--results_repo={repo}", "--tags=loadgen-test",
                          "--x=latency_p50_s", "--y=inference_throughput")
    ids = {p["entry"]: p["id"] for p in scoreboard_json(ck_world, repo, "--tags=loadgen-test")}
    assert page.locator(f'#scatter .point.invalid[data-id="{ids["fast-but-invalid"]}"]').count() == 1
    assert front_ids(page) == {ids["slow-native"]}  # the faster point is INVALID: it never ranks
    assert "INVALID under LoadGen's rules (early stopping not met)" in tooltip_over(page, ids["fast-but-invalid"])
    assert "Server \u2717 INVALID" in page.locator("#points tbody tr", has_text="fast-but-invalid").text_content()
    page.close()


def test_sorting_a_column_reorders_the_rows(ck_world, results, browser, tmp_path):
    page = open_dashboard(ck_world, browser, tmp_path / "board.html", f"--results_repo={results}", "--precision=int8")
    rows = "rows => rows.map(r => r.getAttribute('data-id'))"

    def originals(ids: list[str]) -> list[str]:  # the points of our results repo, in the table's order
        return [i.rsplit(":", 1)[1] for i in ids if i.startswith("asplos18-like-results:")]

    page.click('th[data-key="platform_price"]')
    ascending = originals(page.eval_on_selector_all("#points tbody tr", rows))
    page.click('th[data-key="platform_price"]')
    descending = originals(page.eval_on_selector_all("#points tbody tr", rows))
    assert ascending[0] == "f1" and descending[-1] == "f1"  # 229 $ before twice 1166 $
    assert sorted(ascending) == sorted(descending) == ["c1", "c8", "f1"]
    page.close()


def test_serve_answers_on_localhost_with_the_page_only(ck_world, results, tmp_path):
    page_path = tmp_path / "served.html"
    cmd = [sys.executable, "-m", "ck", "dashboard", "request.asplos18", f"--results_repo={results}",
           f"--output={page_path}", "--serve", "--port=0"]
    server = subprocess.Popen(cmd, env=ck_world.env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL, text=True, cwd=ck_world.root)
    try:
        line = ""
        while "serving" not in line:
            line = server.stdout.readline()
            assert line, "ck dashboard --serve ended before serving"
        url = line.split()[1]
        assert url.startswith("http://127.0.0.1:") and url.endswith("/served.html")
        with urllib.request.urlopen(url, timeout=10) as answer:
            assert answer.status == 200 and answer.read() == page_path.read_bytes()
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(url.rsplit("/", 1)[0] + "/../board.csv", timeout=10)
        assert refused.value.code == 404
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_serve_no_writes_the_page_and_does_not_serve(ck_world, results, tmp_path):
    page_path = tmp_path / "not-served.html"
    proc = ck_world.ck("dashboard", "request.asplos18", f"--results_repo={results}", f"--output={page_path}",
                       "--serve=no", timeout=120)  # serving would never end
    assert page_path.is_file() and "serving" not in proc.stdout
    refused = ck_world.ck("dashboard", "request.asplos18", f"--output={page_path}", "--serve=maybe", check=False)
    assert refused.returncode != 0 and "--serve=maybe: is neither yes nor no" in refused.stdout + refused.stderr


@pytest.mark.parametrize("flags, words", [
    ((), "no output file (pass --output=FILE.html)"),
    (("--output=x.html", "--serve", "--port=http"), "--port=http: is not a TCP port number"),
])
def test_bad_dashboard_flags_exit_non_zero_with_one_line(ck_world, flags, words):
    proc = ck_world.ck("dashboard", "request.asplos18", *flags, check=False)
    assert proc.returncode != 0 and words in proc.stdout + proc.stderr


def test_a_big_board_shows_the_first_rows_until_asked_for_all(browser, tmp_path):
    from ckrequest.board.dashboard import render_html
    from ckrequest.board.filters import Filters
    from ckrequest.board.scoreboard import build_board
    from ckrequest.results.schema import parse_axis
    from ckrequest.tools.bench_scoreboard import write_synthetic_repo

    repo = write_synthetic_repo(tmp_path / "many", 1200)
    board = build_board([("many", repo)], Filters(), parse_axis("inference_latency", "x"),
                        parse_axis("accuracy_top1", "y"))
    page_path = tmp_path / "many.html"
    page_path.write_text(render_html(board, ["many"]))
    page = browser.new_page()
    page.goto(page_path.as_uri())
    page.wait_for_selector("body[data-ready=yes]")
    assert page.locator("#points tbody tr").count() == 1000
    assert page.locator("#scatter .point").count() == sum(1 for p in board.points if p.accuracy_top1 is not None)
    page.click("#table-note button")
    assert page.locator("#points tbody tr").count() == 1200
    page.close()


LIBRARIES = 14  # more than Tableau's ten colours: the old palette gave the 11th the 1st's colour


def test_every_library_gets_a_colour_and_shape_of_its_own_in_the_page_and_the_png(ck_world, browser, tmp_path):
    repo = write_results_repo(tmp_path / "libraries", "many-libraries")
    for k in range(LIBRARIES):
        write_experiment(repo, f"lib-{k:02d}", {"p1": our_point(latency_s=0.002 * (k + 1), top1=0.5 + k / 100,
                                                                library=f"library number {k:02d} 1.0")},
                         tags=("many-libraries",))
    png = tmp_path / "board.png"
    page = open_dashboard(ck_world, browser, tmp_path / "board.html", f"--results_repo={repo}",
                          "--tags=many-libraries", f"--png={png}")
    drawn = page.eval_on_selector_all("#scatter .point", "els => els.map(e => ['data-group', 'fill', 'stroke', "
                                      "'data-shape'].map(a => e.getAttribute(a)))")
    assert len(drawn) == LIBRARIES
    styles = {group: (stroke, shape) for group, fill, stroke, shape in drawn}
    assert len(styles) == LIBRARIES and len(set(styles.values())) == LIBRARIES  # every (colour, shape) once
    assert len({colour for colour, _ in styles.values()}) == LIBRARIES  # and every colour once
    assert all(fill == stroke for _, fill, stroke, _ in drawn)
    legend = page.eval_on_selector_all("#legend span", "els => els.map(e => [e.getAttribute('data-group'), "
                                       "e.querySelector('path').getAttribute('fill'), "
                                       "e.querySelector('path').getAttribute('data-shape')])")
    assert {group: (colour, shape) for group, colour, shape in legend} == styles
    page.close()

    with Image.open(png) as image:
        present = {"#{:02x}{:02x}{:02x}".format(*rgb) for _, rgb in image.convert("RGB").getcolors(1 << 20)}
    assert {colour for colour, _ in styles.values()} <= present  # the PNG draws each library in the page's colour
