"""Attachment text (govcrawler.extract.files) on files made by real libraries.

The fixtures and the lines written into them come from tests/fixtures/files/make_files.py
(expected.json); tests never run the generator.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from govcrawler.extract.files import FileText, file_text
from govcrawler.extract.filetype import declared_kind, sniff, url_kind

FILES = Path(__file__).parent / "fixtures" / "files"
EXPECTED: dict[str, list[str]] = json.loads((FILES / "expected.json").read_text("utf-8"))
BASE = "https://www.sc.gov.cn/10462/10464/2026/1/15/"
ALL = sorted(p.name for p in FILES.iterdir() if p.suffix not in (".py", ".json"))


def read(name: str, content_type: str | None = None) -> FileText:
    return file_text((FILES / name).read_bytes(), content_type, BASE + name)


@pytest.mark.parametrize(
    "name",
    ["cid.pdf", "embedded.pdf", "glyphs.pdf", "truetype.pdf", "owner_only.pdf", "multipage.pdf"],
)
def test_pdf_text_has_every_line_written_in_order(name: str) -> None:
    result = read(name, "application/pdf")
    assert (result.kind, result.status, result.disagreements) == ("pdf", "ok", ())
    lines = result.text.replace("\f", "\n").split("\n")
    assert lines == EXPECTED[name]  # each line exact, in the order written, nothing else


def test_multipage_pdf_pages_are_separated_by_form_feeds() -> None:
    result = read("multipage.pdf")
    assert result.pages == 3
    assert [page.split("\n") for page in result.text.split("\f")] == EXPECTED["multipage.pdf#pages"]


def test_long_pdf_counts_its_pages() -> None:
    result = read("long.pdf")
    assert (result.status, result.pages) == ("ok", 50)
    assert result.text.count("\f") == 49
    assert result.text.startswith("1-1 ") and "\n50-40 " in result.text


def test_docx_paragraphs_and_table_rows_in_document_order() -> None:
    result = read(
        "annex.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    )
    assert (result.kind, result.status, result.pages, result.disagreements) == (
        "docx",
        "ok",
        None,
        (),
    )
    lines = result.text.split("\n")
    assert lines[: len(EXPECTED["annex.docx"]) - 10] == EXPECTED["annex.docx"][:6]
    assert lines[6:9] == [
        "序号\t指标名称\t目标值",
        "1\t综合机械化率\t百分之八十五",
        "2\t亩均节本增效\t三百元",
    ]
    assert lines[9] == "填报日期：2026年1月15日"


def test_xlsx_sheets_and_cells() -> None:
    result = read("annex.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    assert (result.kind, result.status, result.pages) == ("xlsx", "ok", 2)
    first, second = result.text.split("\f")
    assert first.split("\n") == [
        "汇总表",
        "序号\t市（州）\t县（市、区）\t申报项目数",
        "1\t成都市\t蒲江县\t3",
        "2\t自贡市\t荣县\t2",
    ]
    assert second == "说明\n填表说明：金额单位为万元，保留两位小数。"
    assert all(value in result.text for value in EXPECTED["annex.xlsx"])


def test_xls_written_by_xlwt() -> None:
    result = read("annex.xls", "application/vnd.ms-excel")
    assert (result.kind, result.status, result.pages) == ("xls", "ok", 1)
    assert result.text.split("\n") == [
        "联系人名单",
        "序号\t单位名称\t联系人",
        "1\t省经济和信息化厅\t李某某",
        "2\t省交通运输厅\t赵某某",
    ]


def test_image_only_pdf_has_no_text_layer() -> None:
    result = read("image_only.pdf", "application/pdf")
    assert (result.kind, result.status, result.pages, result.text) == (
        "pdf",
        "no_text_layer",
        1,
        "",
    )


def test_encrypted_pdf_needs_a_password() -> None:
    result = read("encrypted.pdf", "application/pdf")
    assert (result.kind, result.status, result.text) == ("pdf", "encrypted", "")


def test_truncated_pdf_is_corrupt() -> None:
    result = read("truncated.pdf", "application/pdf")
    assert (result.kind, result.status, result.text) == ("pdf", "corrupt", "")
    assert result.reason


def test_docx_that_is_not_a_zip() -> None:
    result = read("not_a_zip.docx", "application/octet-stream")
    assert (result.kind, result.status) == ("text", "corrupt")
    assert result.reason == "text served as docx"
    assert result.text == "文件正在生成，请稍后下载。"  # GB18030 bytes, decoded
    assert result.disagreements == ("URL extension: docx, bytes: text",)


def test_html_served_as_pdf() -> None:
    result = read("error_page.pdf", "application/pdf")
    assert (result.kind, result.status, result.reason) == ("html", "corrupt", "html served as pdf")
    assert EXPECTED["error_page.pdf"][0] in result.text
    assert result.disagreements == (
        "Content-Type application/pdf: pdf, bytes: html",
        "URL extension: pdf, bytes: html",
    )


def test_html_served_as_html_is_ok() -> None:
    data = (FILES / "error_page.pdf").read_bytes()
    result = file_text(data, "text/html; charset=utf-8", BASE + "notice.html")
    assert (result.kind, result.status, result.disagreements) == ("html", "ok", ())


def test_cut_docx_is_corrupt_whatever_the_cut() -> None:
    data = (FILES / "annex.docx").read_bytes()
    for size in (4, 100, 1000, len(data) // 2, len(data) - 10):
        result = file_text(data[:size], None, BASE + "annex.docx")
        assert result.status == "corrupt", size
        assert result.kind in ("zip", "docx"), size


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("cid.pdf", "pdf"),
        ("encrypted.pdf", "pdf"),
        ("truncated.pdf", "pdf"),
        ("annex.docx", "docx"),
        ("annex.xlsx", "xlsx"),
        ("annex.xls", "xls"),
        ("not_a_zip.docx", "text"),
        ("error_page.pdf", "html"),
    ],
)
def test_kind_read_from_the_bytes(name: str, kind: str) -> None:
    assert sniff((FILES / name).read_bytes()) == kind


def test_other_magic_numbers() -> None:
    assert sniff(b"") == "empty"
    assert sniff(b"Rar!\x1a\x07\x01\x00") == "rar"
    assert sniff(b"\x89PNG\r\n\x1a\n....") == "image"
    assert sniff(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + "WordDocument".encode("utf-16-le")) == "doc"
    assert sniff(b"\xef\xbb\xbf  <!DOCTYPE HTML><p>x") == "html"
    assert sniff(b"junk\r\n%PDF-1.7\n") == "pdf"
    assert sniff(b"\x00\x01\x02") == "unknown"
    doc = file_text(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + "WordDocument".encode("utf-16-le"))
    assert (doc.kind, doc.status) == ("doc", "unsupported")


def test_encrypted_office_file_is_an_ole2_package() -> None:
    ole2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504)
    data = ole2 + "EncryptionInfo".encode("utf-16-le") + "EncryptedPackage".encode("utf-16-le")
    result = file_text(data, "application/vnd.ms-excel", BASE + "annex.xlsx")
    assert (result.kind, result.status) == ("ole2", "encrypted")
    assert result.disagreements == ()  # an encrypted XLSX is OLE2: no disagreement
    assert file_text(ole2).status == "unsupported"


def test_declared_and_url_kinds() -> None:
    assert declared_kind("application/pdf") == "pdf"
    assert declared_kind("Application/PDF; charset=binary") == "pdf"
    assert declared_kind("application/octet-stream") is None
    assert declared_kind(None) is None
    assert declared_kind("image/jpeg") == "image"
    assert url_kind("https://www.sc.gov.cn/a/b/附件1.DOCX") == "docx"
    assert url_kind("https://www.sc.gov.cn/a/b/download?id=3") is None
    assert url_kind("https://www.sc.gov.cn/a.b/file") is None
    assert url_kind("http://[::1") is None


def test_disagreements_reported_not_fatal() -> None:
    data = (FILES / "annex.docx").read_bytes()
    result = file_text(data, "application/msword", BASE + "annex.doc")
    assert result.status == "ok" and "申报单位基本情况" in result.text
    assert result.disagreements == (
        "Content-Type application/msword: doc, bytes: docx",
        "URL extension: doc, bytes: docx",
    )
    # a container name is no disagreement
    assert file_text(data, "application/zip", BASE + "annex.docx").disagreements == ()


@pytest.mark.parametrize("name", ALL)
def test_every_truncation_of_every_fixture_never_raises(name: str) -> None:
    data = (FILES / name).read_bytes()
    step = max(1, len(data) // 40)
    for size in [*range(0, len(data), step), len(data) - 1]:
        result = file_text(data[:size], "application/pdf", BASE + name)
        assert result.status in ("ok", "no_text_layer", "encrypted", "corrupt", "unsupported")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    prefix=st.sampled_from(
        [b"", b"%PDF-1.4\n", b"PK\x03\x04", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"]
    ),
    body=st.binary(max_size=2048),
    content_type=st.one_of(st.none(), st.text(max_size=40)),
    url=st.one_of(st.none(), st.text(max_size=60)),
)
def test_never_raises_on_any_bytes(
    prefix: bytes, body: bytes, content_type: str | None, url: str | None
) -> None:
    result = file_text(prefix + body, content_type, url)
    assert isinstance(result.text, str)


@settings(max_examples=60, deadline=None)
@given(position=st.integers(min_value=0), value=st.integers(min_value=0, max_value=255))
def test_a_flipped_byte_never_raises(position: int, value: int) -> None:
    for name in ("cid.pdf", "annex.docx", "annex.xlsx", "annex.xls"):
        data = bytearray((FILES / name).read_bytes())
        data[position % len(data)] = value
        file_text(bytes(data), None, BASE + name)
