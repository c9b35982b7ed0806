"""Smoke runs of the benchmarks at tiny sizes: each produces its rows and goals.

Never a timing assertion (timings belong in benchmarks/RESULTS.md, not in tests); this only
keeps the runners working as govcrawler changes. The full runs are `make bench`.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks import (
    b1_pipeline,
    b2_incremental,
    b3_archive,
    b4_memory,
    b6_cost,
    b6_memory,
    b6_text,
    filesite,
    run,
)
from benchmarks.report import FINDINGS, Goal, Section, section_text, write_results
from benchmarks.sitegen import SiteSpec, generate, local_path, page_of, synth_article
from govcrawler.extract.article import article_from_page
from govcrawler.extract.files import file_text_at
from govcrawler.extract.filetype import sniff


def test_synthetic_pages_extract_like_the_saved_site() -> None:
    spec = SiteSpec(articles=40, columns=3, chinese_share=0.2)
    for i in range(0, 40, 3):
        article = synth_article(spec, i)
        html = page_of(article, [])
        extracted = article_from_page(html, article.url)
        assert extracted.title == article.text.title
        assert tuple(extracted.body) == article.text.paragraphs
        assert extracted.published_on == article.published_on
        assert extracted.extraction_path == "container"
        assert 30_000 < len(html.encode()) < 60_000 or article.text.language == "zh"


def test_generated_site_and_copy_with_new_articles(tmp_path: Path) -> None:
    spec = SiteSpec(articles=45, columns=3, per_page=10)
    info = generate(tmp_path / "site", spec)
    pages = [p for p in (tmp_path / "site").rglob("*.shtml")]
    assert len(pages) == info.pages
    grown = b2_incremental.add_articles(tmp_path / "site", tmp_path / "grown", spec, 4)
    assert len(grown.new_urls) == 4
    assert 1 <= grown.lists_showing_new <= 3
    assert sorted(p.name for p in (tmp_path / "site").rglob("*.shtml")) != sorted(
        p.name for p in (tmp_path / "grown").rglob("*.shtml")
    )


def test_site_with_files_links_real_files(tmp_path: Path) -> None:
    spec = SiteSpec(articles=12, columns=2, per_page=5, files=True, big_files="1,150")
    info = generate(tmp_path / "site", spec)
    assert info.files == 24
    big = filesite.big_positions(12, "1,150")
    texts = set()
    for i in range(12):
        article = synth_article(spec, i)
        extracted = article_from_page(page_of(article, [], files=True), article.url)
        image, attachment = filesite.file_urls(article.url, article.doc_id)
        assert [x.url for x in extracted.images] == [image]
        assert [a.url for a in extracted.attachments] == [attachment]
        assert sniff(local_path(info.root, image).read_bytes()[:1024]) == "image"
        path = local_path(info.root, attachment)
        size = path.stat().st_size
        if big.get(i, 0) > filesite.DEFAULT_MAX_BYTES:  # sparse: 150 MiB that take no disk
            assert size > 149 * filesite.MIB and path.stat().st_blocks * 512 < filesite.MIB
            continue
        read = file_text_at(str(path), "application/pdf", attachment)
        assert read.status == "ok" and read.text.strip()
        assert any("\u4e00" <= c <= "\u9fff" for c in read.text)  # Chinese text
        if i in big:  # grown to its size, same text as the pool PDF it grew from
            assert abs(size - big[i]) < 1024
        texts.add(read.text)
    assert len(texts) > 1


def check(section: Section, rows: int) -> None:
    assert len(section.rows) == rows
    assert all(len(row) == len(section.columns) for row in section.rows)
    assert section.goals and all(g.status.split()[0] in ("met", "missed") for g in section.goals)


@pytest.mark.bench
def test_b1_smoke(tmp_path: Path) -> None:
    section = b1_pipeline.run(tmp_path, articles=40, columns=2, repeats=1)
    check(section, 5)  # three crawlers and two ratios
    runs = section.data["runs"]
    pages = [r["pages"] for r in runs["a"] + runs["b"] + runs["c"]]
    assert min(pages) >= 40


@pytest.mark.bench
def test_b2_smoke(tmp_path: Path) -> None:
    section = b2_incremental.run(tmp_path, articles=40, columns=2, new=3)
    check(section, 3)
    assert section.data["after"]["new"] == 3
    assert section.data["unchanged"]["new"] == 0


@pytest.mark.bench
def test_b3_smoke(tmp_path: Path) -> None:
    section = b3_archive.run(tmp_path, size=200, budget_s=600, batch=50, repeats=2)
    check(section, len(b3_archive.QUERIES))
    assert section.data["points"][-1]["articles"] == 200


@pytest.mark.bench
def test_b4_smoke(tmp_path: Path) -> None:
    section = b4_memory.run(tmp_path, pages=40, columns=2, every=0.2)
    check(section, 6)
    assert section.data["pages"] >= 40


@pytest.mark.bench
def test_b6_memory_smoke(tmp_path: Path) -> None:
    section = b6_memory.run(
        tmp_path, pages=40, columns=2, every=0.2, big_files="1.5,3", max_bytes=2 * filesite.MIB
    )
    check(section, 9)
    assert section.data["pages"] >= 40 and section.data["files"] >= 70
    assert section.data["stored"]["states"]["too_large"] == 1  # 3 MiB, over a 2 MiB limit
    roles = [p["role"] for p in section.data["processes"]]
    assert roles[0] == "crawl" and "text worker" in roles


@pytest.mark.bench
def test_b6_cost_smoke(tmp_path: Path) -> None:
    threads, growth = b6_cost.run(tmp_path, pages=40, rounds=1, columns=2)
    check(threads, len(b6_cost.CONFIGS) + 2)
    check(growth, 12)
    runs = threads.data["runs"]
    assert runs["no files"][0]["files"] == 0 and runs["workers 0"][0]["worker_cpu_s"] == 0
    assert runs["workers 1"][0]["worker_cpu_s"] > 0
    assert growth.data["with_files"]["blobs"] >= 70


@pytest.mark.bench
def test_b6_text_smoke() -> None:
    section = b6_text.run(repeat=1, long=False, docx_calls=1)
    assert section.rows and section.goals
    assert any(row[0].startswith("pypdfium2 ") for row in section.rows)


@pytest.mark.bench
def test_runner_writes_results_and_keeps_findings(tmp_path: Path) -> None:
    results = tmp_path / "RESULTS.md"
    results.write_text(f"old\n{FINDINGS}\nhand-written profile\n", encoding="utf-8")
    run.main(
        ["b4", "--workdir", str(tmp_path / "work"), "--results", str(results), "--b4-pages", "30"]
    )
    text = results.read_text(encoding="utf-8")
    assert "B4 memory" in text and "hand-written profile" in text and "Python 3" in text
    saved = json.loads((tmp_path / "work" / "results" / "b4.json").read_text())
    assert saved["key"] == "b4"
    assert write_results(tmp_path / "work" / "results", results).count(FINDINGS) == 1


@pytest.mark.bench
def test_runner_b6_part(tmp_path: Path) -> None:
    results = tmp_path / "RESULTS.md"
    argv = ["b6", "--b6-parts", "text", "--b6-text-repeat", "1", "--results", str(results)]
    run.main([*argv, "--workdir", str(tmp_path / "work")])
    assert "B6 attachment text" in results.read_text(encoding="utf-8")
    assert (tmp_path / "work" / "results" / "b6t.json").is_file()
    with pytest.raises(SystemExit):
        run.main(["b6", "--b6-parts", "nothing", "--workdir", str(tmp_path / "work")])


def test_results_keep_sections_with_no_saved_json(tmp_path: Path) -> None:
    """A section measured in an earlier session (no JSON here) stays, with its goals."""
    results, saved = tmp_path / "RESULTS.md", tmp_path / "results"
    b4 = Section("b4", "B4 memory (9 pages)", ["a"], [["1"]], goals=[Goal("B4 flat", "met", "d")])
    b4_text = section_text(b4)
    results.write_text(
        f"# x\n\n## Goals at a glance\n\n| bench | status | goal |\n|--|--|--|\n"
        f"| B4    | met    | B4 flat |\n\n{b4_text}\n{FINDINGS}\nmine\n",
        encoding="utf-8",
    )
    Section("b6t", "B6 text", ["a"], [["2"]], goals=[Goal("B6 text", "missed", "d")]).save(saved)
    text = write_results(saved, results)
    assert b4_text in text and "## B6 text" in text and text.endswith("mine\n")
    assert "| B4    | met    | B4 flat |" in text and "| B6T   | missed | B6 text |" in text
    again = write_results(saved, results)  # and again, from the rewritten file (date aside)
    assert again.split("## Goals at a glance")[1] == text.split("## Goals at a glance")[1]


def test_runner_needs_a_benchmark() -> None:
    with pytest.raises(SystemExit):
        run.main([])


@pytest.mark.bench
def test_bench_file_text_smoke() -> None:
    from benchmarks import bench_file_text

    result = bench_file_text.run(repeat=1, long=False, docx_calls=1)
    quality = result["quality"]
    assert isinstance(quality, dict)
    chosen = next(v for k, v in quality.items() if k.startswith("pypdfium2 "))
    assert set(chosen.values()) == {"0 missing"}
    assert len(result["speed"]) == len(quality) * len(bench_file_text.CHINESE_PDFS)
