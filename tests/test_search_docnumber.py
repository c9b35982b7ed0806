"""Search and show by 文号, and the document filters (`govcrawler search --issuer/--series/
--validity`), on a small archive of English articles and Chinese documents written the way the
crawler writes them (`storage.record_article` with a `storage.DocumentRecord`), in SQLite and
in PostgreSQL. A 文号 in any bracket form finds the document with it first, then the texts that
cite it; `show` takes a 文号 too.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from alembic import command
from click.testing import CliRunner, Result
from sqlalchemy import Engine

import storage
from govcrawler.cli import main
from govcrawler.extract.docnumber import find_doc_numbers
from govcrawler.pipelines.documents import quoted_titles
from storage.db import _alembic_config
from storage.search.ranking import DocumentFilter, search_articles
from tests.conftest import BACKENDS, new_database, postgres_server, raw_rows, url_of

SEEN = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)
ZH = "https://www.sc.gov.cn/10462/zfwjts/{}/{}.shtml"
EN = "https://www.sc.gov.cn/10462/10758/10760/10765/{}/{}.shtml"
GOVERNMENT, OFFICE = "四川省人民政府", "四川省人民政府办公厅"


def zh(
    key: str,
    title: str,
    body: str,
    day: date,
    attachments: tuple[dict[str, str], ...] = (),
    **document: object,
) -> storage.ArticleRecord:
    """A Chinese document as the pipeline hands it to storage, with what its body cites."""
    own = document.get("doc_number")
    cited = [(n.raw, n.normalised) for n in find_doc_numbers(body) if n.normalised != own]
    references = {"cited_numbers": cited, "quoted_titles": quoted_titles(title, body)}
    return storage.ArticleRecord(
        url=ZH.format(day.year, key),
        canonical_id=hashlib.md5(key.encode()).hexdigest(),
        title=title,
        body=body,
        body_digest=hashlib.sha256(body.encode()).hexdigest(),
        published_on=day,
        column_id="zfwjts",
        language="zh",
        template="artleft",
        extraction_path="container",
        attachments=list(attachments),
        document=storage.DocumentRecord(
            published_on=day,
            layout="a",
            **references,
            **document,  # type: ignore[arg-type]
        ),
    )


def en(key: str, title: str, body: str, day: date) -> storage.ArticleRecord:
    return storage.ArticleRecord(
        url=EN.format(f"{day.year}/{day.month}/{day.day}", key),
        canonical_id=hashlib.md5(key.encode()).hexdigest(),
        title=title,
        body=body,
        body_digest=hashlib.sha256(body.encode()).hexdigest(),
        published_on=day,
        column_id="10765",
        language="en",
        template="contText",
        extraction_path="container",
    )


def number(normalised: str, raw: str, series: str, year: int | None, seq: int) -> dict:
    return {
        "doc_number": normalised,
        "doc_number_raw": raw,
        "doc_series": series,
        "doc_year": year,
        "doc_seq": seq,
    }


MEASURES = zh(
    "measures",
    "四川省人民政府关于印发《四川省促进民营经济高质量发展若干措施》的通知",
    "各市（州）人民政府，省政府各部门、各直属机构：\n\n现将《四川省促进民营经济高质量发展若干措施》"
    "印发给你们，请认真贯彻执行。\n\n一、降低民营企业融资成本，扩大首贷和信用贷款规模。"
    "\n\n二、清理妨碍公平竞争的规定，畅通民营企业参与重大项目建设的渠道。"
    "\n\n三、加强用地、用能等要素保障，符合条件的民营企业重大项目优先纳入省重点项目清单。"
    "\n\n四、健全政企沟通机制，各地每季度至少召开一次民营企业座谈会，及时协调解决企业反映的问题。"
    "\n\n本措施自印发之日起施行，有效期5年。",
    date(2024, 2, 5),
    (
        {
            "url": "https://www.sc.gov.cn/10462/zfwjts/2024/2/5/P020240205391.pdf",
            "text": "四川省促进民营经济高质量发展若干措施.pdf",
            "extension": "pdf",
        },
    ),
    column_path=["首页", "政务公开", "省政府文件", "川府发"],
    **number("川府发〔2024〕3号", "川府发〔2024〕3号", "川府发", 2024, 3),
    issuer=GOVERNMENT,
    doc_type="通知",
    written_on=date(2024, 1, 30),
    validity="有效",
    validity_raw="有效",
    validity_source="script",
    subject="综合政务",
)
ROADS = zh(
    "roads",
    "四川省人民政府办公厅关于加快农村公路建设的实施意见",
    "各市（州）人民政府：\n\n为加快农村公路建设，提升群众出行条件，经省政府同意，提出如下意见。"
    "\n\n到2025年，全省具备条件的建制村通双车道公路。",
    date(2023, 6, 12),
    **number("川办发〔2023〕12号", "川办发〔2023〕 12号", "川办发", 2023, 12),
    issuer=OFFICE,
    doc_type="意见",
    validity="失效",
    validity_raw="失效",
    validity_source="static",
    abolished_on=date(2025, 6, 30),
)
FOLLOW_UP = zh(
    "follow-up",
    "四川省人民政府办公厅关于做好民营企业融资服务工作的函",
    "省级有关部门：\n\n根据《四川省促进民营经济高质量发展若干措施》（川府发[2024]3号）要求，"
    "现就做好民营企业融资服务工作有关事项函告如下。\n\n请于每季度末报送工作进展。",
    date(2024, 4, 18),
    **number("川办函〔2024〕21号", "川办函〔2024〕21号", "川办函", 2024, 21),
    issuer=OFFICE,
    doc_type="函",
    validity="有效",
    validity_raw="有效",
    validity_source="static",
)
READING = zh(
    "reading",
    "《四川省促进民营经济高质量发展若干措施》政策解读",
    "近日，省政府印发《四川省促进民营经济高质量发展若干措施》（川府发〔2024〕3号）。"
    "\n\n《措施》从融资、市场准入、要素保障三个方面提出具体举措，着力解决民营企业发展中的难点。",
    date(2024, 2, 8),
    issuer=GOVERNMENT,
    is_interpretation=True,
)
ORDER = zh(
    "order",
    "四川省人民政府令第358号 四川省数据条例实施办法",
    "《四川省数据条例实施办法》已经2023年11月20日省政府第30次常务会议审议通过，现予公布，"
    "自2024年3月1日起施行。\n\n第一条 为规范数据处理活动，促进数据依法有序流动，制定本办法。",
    date(2023, 12, 1),
    **number("四川省人民政府令第358号", "四川省人民政府令\n第358号", "四川省人民政府令", None, 358),
    issuer=GOVERNMENT,
    doc_type="令",
    validity="尚未施行",
    validity_raw="尚未施行",
    validity_source="script",
)
# Re-numbered at the same URL (a second version): found by its old 文号 after the current ones.
RENUMBERED_V1 = zh(
    "renumbered",
    "四川省人民政府关于同意设立四川天府新区数字经济产业园的批复",
    "天府新区管委会：\n\n你单位关于设立数字经济产业园的请示收悉。经研究，同意设立。",
    date(2022, 9, 1),
    **number("川府函〔2022〕5号", "川府函〔2022〕5号", "川府函", 2022, 5),
    issuer=GOVERNMENT,
    validity="有效",
)
assert RENUMBERED_V1.document is not None
RENUMBERED_V2 = replace(
    RENUMBERED_V1,
    document=replace(
        RENUMBERED_V1.document,
        doc_number="川府函〔2022〕6号",
        doc_number_raw="川府函〔2022〕6号",
        doc_seq=6,
    ),
)
PANDA = en(
    "panda",
    "Giant Panda Habitat Grows Across Sichuan",
    "Rangers in Sichuan counted more wild pandas in the national park this year. Bamboo "
    "corridors now link habitats that roads had cut apart.",
    date(2024, 3, 2),
)
INVESTMENT = en(
    "investment",
    "Private Companies Gain Easier Credit in Sichuan",
    "Banks in Chengdu extended first loans to 3,000 private companies after the provincial "
    "government cut financing costs. Officials said the new measures help private investment.",
    date(2024, 5, 9),
)
DOCUMENTS = [MEASURES, ROADS, FOLLOW_UP, READING, ORDER]
ARTICLES = [PANDA, INVESTMENT]


def build(url: str) -> None:
    """The archive of these articles and documents, through the write path."""
    engine = storage.open_archive(url)
    try:
        with storage.session_factory(engine).begin() as session:
            storage.record_column(session, "10765", "News", EN.format("x", "list"), SEEN)
            for record in [*DOCUMENTS, *ARTICLES, RENUMBERED_V1]:
                storage.record_article(session, record, SEEN)
        with storage.session_factory(engine).begin() as session:
            storage.record_article(session, RENUMBERED_V2, SEEN + timedelta(days=30))
    finally:
        engine.dispose()


@pytest.fixture(scope="module", params=BACKENDS)
def archive(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    if request.param == "postgresql":
        postgres_server()
    with new_database(request.param, tmp_path_factory.mktemp("docnumber"), request) as url:
        build(url)
        yield url


def cli(url: str, *args: str) -> Result:
    return CliRunner().invoke(main, [*args, "--database", url])


def hits(url: str, *args: str) -> list[dict]:
    result = cli(url, "search", *args, "--json")
    assert result.exit_code == 0, (result.output, result.exception)
    return list(json.loads(result.stdout))


def one_line_error(result: Result) -> str:
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit), result.exception
    assert result.stderr.startswith("Error: ") and result.stderr.strip().count("\n") == 0
    return result.stderr


FORMS = [
    "川府发〔2024〕3号",
    "川府发[2024]3号",
    "川府发(2024)3号",
    "川府发【2024】3号",
    "川府发（２０２４）３号",
    "川府发［2024］ 3 号",
    " 川府发 〔2024〕3号 ",
    "川府发20243号",
]


@pytest.mark.parametrize("form", FORMS)
def test_a_doc_number_in_any_form_finds_its_document_first_then_the_texts_citing_it(
    archive: str, form: str
) -> None:
    found = hits(archive, form)
    assert found[0]["url"] == MEASURES.url
    assert found[0]["number_match"] and found[0]["doc_number"] == "川府发〔2024〕3号"
    rest = [hit["url"] for hit in found[1:]]
    assert set(rest) == {FOLLOW_UP.url, READING.url}  # they cite it, in two bracket forms
    assert not any(hit["number_match"] for hit in found[1:])
    assert found[1:] == hits(archive, FORMS[0])[1:]


def test_dates_and_columns_bound_the_documents_found_by_number(archive: str) -> None:
    later = hits(archive, "川府发〔2024〕3号", "--since", "2024-03-01")
    assert [(hit["url"], hit["number_match"]) for hit in later] == [(FOLLOW_UP.url, False)]
    assert hits(archive, "川府发〔2024〕3号", "--column", "10765") == []
    assert hits(archive, "川府发〔2024〕3号", "--until", "2024-02-05")[0]["url"] == MEASURES.url


def test_the_texts_of_a_number_are_searched_as_one_phrase(archive: str) -> None:
    """川府发〔2024〕30号 is not 川府发〔2024〕3号, nor is a text with 川府发, 2024 and 3 apart."""
    assert hits(archive, "川府发〔2024〕30号") == []


def test_an_order_number_and_a_former_number_find_their_documents(archive: str) -> None:
    assert [hit["url"] for hit in hits(archive, "四川省人民政府令 第358号")] == [ORDER.url]
    old = hits(archive, "川府函(2022)5号")
    assert [hit["url"] for hit in old] == [RENUMBERED_V1.url]
    assert old[0]["number_match"] and old[0]["doc_number"] == "川府函〔2022〕6号"


def test_storage_searches_by_the_normalised_number_it_is_given(archive: str) -> None:
    engine = storage.open_archive(archive)
    try:
        with storage.session_factory(engine)() as session:
            wanted = DocumentFilter(doc_number="川办发〔2023〕12号")
            found = search_articles(session, "农村公路", documents_filter=wanted)
    finally:
        engine.dispose()
    assert [(hit.url, hit.number_match) for hit in found] == [(ROADS.url, True)]
    assert found[0].score > 0  # its text matched too


def test_filters_keep_documents_of_an_issuer_a_series_a_validity(archive: str) -> None:
    def urls(*args: str) -> set[str]:
        return {hit["url"] for hit in hits(archive, *args)}

    assert urls("民营", "--issuer", OFFICE) == {FOLLOW_UP.url}
    assert urls("四川", "--series", "川府发") == {MEASURES.url}
    assert urls("人民政府", "--validity", "失效") == {ROADS.url}
    assert urls("人民政府", "--validity", "现行有效") == urls("人民政府", "--validity", "有效")
    assert urls("人民 政府", "--validity", "尚未施行", "--issuer", GOVERNMENT) == {ORDER.url}
    assert urls("Sichuan", "--issuer", GOVERNMENT) == set()  # articles have no issuer
    assert INVESTMENT.url in urls("private")


def test_a_bad_filter_is_one_line(archive: str) -> None:
    assert "unknown --validity" in one_line_error(
        cli(archive, "search", "四川", "--validity", "maybe")
    )
    message = one_line_error(cli(archive, "search", "四川", "--issuer", "四川省交通运输厅"))
    assert "no document has issuer" in message and OFFICE in message


@pytest.mark.parametrize("form", ["川府发〔2024〕3号", "川府发 [2024] 3号", "川府发（2024）3号"])
def test_show_by_doc_number(archive: str, form: str) -> None:
    shown = cli(archive, "show", form, "--json")
    assert shown.exit_code == 0, shown.output
    detail = json.loads(shown.stdout)
    assert detail["url"] == MEASURES.url
    assert detail["document"]["issuer"] == GOVERNMENT
    assert detail["document"]["validity"] == "有效"
    text = cli(archive, "show", form)
    assert (
        "doc_number: 川府发〔2024〕3号" in text.stdout and "issuer: 四川省人民政府" in text.stdout
    )


def test_show_by_a_former_number_and_an_unknown_number(archive: str) -> None:
    shown = cli(archive, "show", "川府函〔2022〕5号", "--json")
    assert json.loads(shown.stdout)["url"] == RENUMBERED_V1.url
    assert "no article" in one_line_error(cli(archive, "show", "川府发〔2099〕1号"))
    panda = json.loads(cli(archive, "show", PANDA.url, "--json").stdout)
    assert panda["document"] is None


def test_search_by_number_says_which_hit_has_it(archive: str) -> None:
    lines = cli(archive, "search", "川府发[2024]3号").stdout.splitlines()
    assert lines[0] == "numbered 川府发〔2024〕3号:"
    assert lines[1].split()[0] == str(
        json.loads(cli(archive, "show", MEASURES.url, "--json").stdout)["id"]
    )
    assert "mentioning 川府发〔2024〕3号:" in lines


# Revision 0009: the reading views


def test_the_reading_views_list_articles_and_documents_with_an_excerpt(archive: str) -> None:
    articles = raw_rows(archive, "SELECT * FROM article_list ORDER BY id")
    assert len(articles) == len(DOCUMENTS) + len(ARTICLES) + 1
    panda = next(row for row in articles if row["url"] == PANDA.url)
    assert len(PANDA.body) < 160 and panda["excerpt"] == PANDA.body
    measures = next(row for row in articles if row["url"] == MEASURES.url)
    assert len(MEASURES.body) > 160
    assert measures["excerpt"] == " ".join(MEASURES.body[:160].split("\n\n")) + "…"
    assert (panda["title"], panda["year"], panda["language"]) == (PANDA.title, 2024, "en")
    documents = {row["url"]: row for row in raw_rows(archive, "SELECT * FROM document_list")}
    assert set(documents) == {record.url for record in [*DOCUMENTS, RENUMBERED_V2]}
    roads = documents[ROADS.url]
    assert roads["excerpt"] == " ".join(ROADS.body.split("\n\n"))  # short: whole, one line
    assert (roads["doc_number"], roads["issuer"], roads["validity"]) == (
        "川办发〔2023〕12号",
        OFFICE,
        "失效",
    )
    assert (roads["doc_series"], roads["year"], roads["abolished_on"]) == (
        "川办发",
        2023,
        "2025-06-30",
    )
    assert documents[RENUMBERED_V1.url]["versions"] == 2


def test_0009_downgrades_to_0008_and_back_keeping_every_row(engine: Engine) -> None:
    url = url_of(engine)
    with storage.session_factory(engine).begin() as session:
        for record in [MEASURES, PANDA]:
            storage.record_article(session, record, SEEN)
    listed = raw_rows(url, "SELECT * FROM document_list")
    config = _alembic_config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0008")
    assert storage.schema_revision(engine) == "0008"
    assert raw_rows(url, "SELECT COUNT(*) AS n FROM documents") == [{"n": 1}]
    storage.upgrade_archive(engine)
    assert raw_rows(url, "SELECT * FROM document_list") == listed


def test_show_by_a_number_two_documents_share_lists_the_other(engine: Engine) -> None:
    """The gazette reprints a document under its 文号 with its own wording: two documents."""
    gazette = replace(
        MEASURES,
        url=ZH.format(2024, "gazette-measures"),
        canonical_id="gazette-measures",
        body=MEASURES.body.replace("印发给你们", "印发给各地"),
        body_digest="gazette-measures",
        published_on=date(2024, 3, 10),
    )
    with storage.session_factory(engine).begin() as session:
        for record in [MEASURES, gazette]:
            storage.record_article(session, record, SEEN)
    url = url_of(engine)
    shown = json.loads(cli(url, "show", "川府发[2024]3号", "--json").stdout)
    assert shown["url"] == MEASURES.url and len(shown["also_numbered"]) == 1
    assert "also numbered 川府发〔2024〕3号: " in cli(url, "show", "川府发[2024]3号").stdout
    found = hits(url, "川府发〔2024〕3号")
    assert [hit["number_match"] for hit in found] == [True, True]
    assert [hit["url"] for hit in found] == [MEASURES.url, gazette.url]
