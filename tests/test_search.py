"""Search (`storage.search`): the query language, ranking, filters, snippets, Chinese, errors.

The tests search a small temporary archive written the way the crawler writes it
(`storage.record_article`), once in SQLite and once in PostgreSQL (tests/conftest.py): the same
queries find the same articles on both. Once they read the index raw, as a researcher would.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

import storage
import storage.search.postgresql
import storage.search.ranking
from storage.search.ranking import SearchHit, SearchQueryError, fts_query, search_articles
from tests.conftest import BACKENDS, index_search, new_database, postgres_server, raw_rows

SITE = "https://www.sc.gov.cn/10462/10758/10760"
SEEN = datetime(2026, 11, 28, 2, 30, tzinfo=UTC)
NEWS, REPORT = "10765", "10766"

INVESTMENT = (
    "Sichuan Attracts Record Foreign Investment",
    "Chengdu signed 42 projects worth 120 billion yuan at the Western China International "
    "Fair. Foreign investors said investment in advanced manufacturing rose by 18 percent."
    "\n\nThe provincial commerce department said the Chengdu-Chongqing economic circle "
    "offers a stable business environment to companies from Singapore and Germany.",
)
PANDA = (
    "Giant Panda National Park Sees Wild Population Grow",
    "The wild giant panda population in Sichuan has grown to 1,387, according to the latest "
    "survey. Rangers in the park installed infrared cameras along migration corridors, and "
    "conservation staff planted bamboo to link isolated habitats.",
)
FLOOD = (
    "Executive Meeting of Provincial Government Studies Flood Control",
    "Huang Qiang, Governor of Sichuan Province, presided over an executive meeting of the "
    "provincial government on July 3. The meeting studied flood control and disaster relief "
    "during the main flood season and asked every city to inspect reservoirs and dykes.",
)
TOURISM = (
    "Tourism Recovers Across the Province",
    "Scenic areas in Aba and Ganzi received 30 million visitors in the first half of the year, "
    "and hotel bookings in Jiuzhaigou doubled.",
)
RURAL = (
    "Rural Revitalisation Gains Momentum in Liangshan",
    "Villages in Liangshan built roads, schools and clinics. Pepper growers doubled their "
    "incomes, and rural tourism brought visitors to the mountains. Pollution control of the "
    "rivers and flood warnings were improved.",
)
REPORT_EN = (
    "Highlights of the 2023 Government Work Report",
    "The Government Work Report sets a growth target of about 6 percent.\n\n"
    "四川省人民政府 2023年政府工作报告 提出，全省地区生产总值增长6%左右。\n\n"
    "The report was delivered to the first session of the 14th Provincial People's Congress.",
)
REPORT_ZH = (
    "四川省人民政府关于推进农村改革的通知",
    "各市（州）人民政府，省政府各部门：为深入推进农村改革，现就有关事项通知如下。"
    "一、巩固拓展脱贫攻坚成果，全面推进乡村振兴。二、加快建设农业强省。",
)
CHINESE_ARTICLES = {"report_en", "report_zh"}


def article(key: str, title: str, body: str, day: date, column_id: str) -> storage.ArticleRecord:
    page_column = "Government Work Report" if column_id == REPORT else "News"
    digest = hashlib.sha256(body.encode("utf-8")).hexdigest()
    return storage.ArticleRecord(
        url=f"{SITE}/{column_id}/{day.year}/{day.month}/{day.day}/{key}.shtml",
        canonical_id=key,
        title=title,
        body=body,
        body_digest=digest,
        published_on=day,
        column_id=column_id,
        language="zh" if key == "report_zh" else "en",
        template="contText",
        extraction_path="container",
        page_column_name=page_column,
    )


ARTICLES = {
    "investment": article("investment", *INVESTMENT, date(2021, 5, 12), NEWS),
    "panda": article("panda", *PANDA, date(2022, 3, 1), NEWS),
    "flood": article("flood", *FLOOD, date(2023, 7, 4), NEWS),
    "tourism": article("tourism", *TOURISM, date(2023, 8, 20), NEWS),
    "rural": article("rural", *RURAL, date(2024, 2, 9), NEWS),
    "report_en": article("report_en", *REPORT_EN, date(2023, 1, 16), REPORT),
    "report_zh": article("report_zh", *REPORT_ZH, date(2024, 1, 20), REPORT),
}


@pytest.fixture(scope="module", params=BACKENDS)
def archive(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """The archive with every article in it; only 10765 is a column the navigation named."""
    if request.param == "postgresql":
        postgres_server()
    with new_database(request.param, tmp_path_factory.mktemp("search"), request) as url:
        engine = storage.open_archive(url)
        with storage.session_factory(engine).begin() as session:
            storage.record_column(session, NEWS, "Sichuan News", f"{SITE}/{NEWS}/list.shtml", SEEN)
            for record in ARTICLES.values():
                storage.record_article(session, record, SEEN)
        engine.dispose()
        yield url


@pytest.fixture(scope="module")
def sessions(archive: str) -> Iterator[sessionmaker[Session]]:
    engine = storage.open_archive(archive)
    yield storage.session_factory(engine)
    engine.dispose()


def search(sessions: sessionmaker[Session], query: str, **options: Any) -> list[SearchHit]:
    with sessions() as session:
        return search_articles(session, query, **options)


def found(sessions: sessionmaker[Session], query: str, **options: Any) -> set[str]:
    """The keys (canonical ids) of the articles a query finds."""
    return {
        hit.url.rsplit("/", 1)[1].removesuffix(".shtml")
        for hit in search(sessions, query, **options)
    }


def test_an_english_word_finds_its_articles_and_no_others(sessions: sessionmaker[Session]) -> None:
    assert found(sessions, "panda") == {"panda"}
    assert found(sessions, "Chengdu") == {"investment"}
    assert found(sessions, "visitors") == {"tourism", "rural"}


def test_all_words_must_match_in_any_order(sessions: sessionmaker[Session]) -> None:
    assert found(sessions, "visitors doubled") == {"tourism", "rural"}
    assert found(sessions, "doubled pepper") == {"rural"}


def test_a_title_match_ranks_above_a_body_only_match(sessions: sessionmaker[Session]) -> None:
    hits = search(sessions, "tourism")
    assert [hit.title for hit in hits] == [TOURISM[0], RURAL[0]]
    assert hits[0].score > hits[1].score


def test_a_phrase_matches_only_the_exact_sequence(sessions: sessionmaker[Session]) -> None:
    assert found(sessions, "flood control") == {"flood", "rural"}
    assert found(sessions, '"flood control"') == {"flood"}


def test_a_prefix_term_matches_word_starts(sessions: sessionmaker[Session]) -> None:
    assert found(sessions, "invest*") == {"investment"}
    hit = search(sessions, "invest*")[0]
    assert "[investors]" in hit.snippet and "[investment]" in hit.snippet


def test_punctuation_inside_words_is_searched_as_a_phrase(sessions: sessionmaker[Session]) -> None:
    assert found(sessions, "Chengdu-Chongqing") == {"investment"}
    assert found(sessions, "People's Congress") == {"report_en"}


@pytest.mark.parametrize("word", ["四川", "政府"])
def test_a_two_character_chinese_word(sessions: sessionmaker[Session], word: str) -> None:
    assert found(sessions, word) == CHINESE_ARTICLES


def test_a_longer_chinese_word_is_a_phrase_of_bigrams(sessions: sessionmaker[Session]) -> None:
    assert fts_query("四川省政府") == '"四川 川省 省政 政府"'
    assert found(sessions, "人民政府") == CHINESE_ARTICLES
    assert found(sessions, "政府工作报告") == {"report_en"}
    assert found(sessions, "人民银行") == set()


def test_a_single_chinese_character(sessions: sessionmaker[Session]) -> None:
    assert fts_query("省") == '"省"*'
    assert found(sessions, "省") == CHINESE_ARTICLES
    assert found(sessions, "州") == {"report_zh"}  # a run's last character: 市（州）


def test_chinese_and_english_in_one_word_must_both_match(sessions: sessionmaker[Session]) -> None:
    assert fts_query("四川report") == '("四川" AND "report")'
    assert found(sessions, "四川report") == {"report_en"}


def test_a_phrase_across_chinese_and_english(sessions: sessionmaker[Session]) -> None:
    assert found(sessions, '"2023年政府工作报告"') == {"report_en"}
    assert found(sessions, '"人民政府 2023"') == {"report_en"}


def test_or(sessions: sessionmaker[Session]) -> None:
    assert found(sessions, "panda OR reservoirs") == {"panda", "flood"}
    assert found(sessions, "(panda OR reservoirs) rangers") == {"panda"}


def test_not(sessions: sessionmaker[Session]) -> None:
    assert found(sessions, "visitors NOT pepper") == {"tourism"}
    assert found(sessions, "Sichuan AND NOT panda NOT governor") == {"investment"}


def test_since_and_until(sessions: sessionmaker[Session]) -> None:
    assert found(sessions, "Sichuan", since=date(2022, 1, 1)) == {"panda", "flood"}
    assert found(sessions, "Sichuan", until=date(2021, 12, 31)) == {"investment"}
    days = {"since": date(2023, 1, 1), "until": date(2023, 12, 31)}
    assert found(sessions, "visitors OR 四川", **days) == {"tourism", "report_en"}


def test_column_by_id(sessions: sessionmaker[Session]) -> None:
    assert found(sessions, "政府", column=REPORT) == CHINESE_ARTICLES
    assert found(sessions, "visitors", column=10765) == {"tourism", "rural"}
    assert found(sessions, "visitors", column=REPORT) == set()


def test_column_by_name_in_any_case(sessions: sessionmaker[Session]) -> None:
    assert found(sessions, "Sichuan OR 四川", column="sichuan news") == {
        "investment",
        "panda",
        "flood",
    }
    # a name only the pages' meta tags give (the navigation never named 10766)
    assert found(sessions, "report", column="GOVERNMENT WORK REPORT") == {"report_en"}
    assert search(sessions, "report", column="Sichuan News") == []


def test_a_hit_carries_the_article(sessions: sessionmaker[Session]) -> None:
    (hit,) = search(sessions, "rangers")
    assert hit.title == PANDA[0]
    assert hit.url == ARTICLES["panda"].url
    assert hit.published_on == date(2022, 3, 1)
    assert hit.column_name == "Sichuan News"
    assert isinstance(hit.article_id, int) and hit.score > 0


def test_the_snippet_marks_the_terms(sessions: sessionmaker[Session]) -> None:
    (hit,) = search(sessions, "bamboo habitats")
    assert "[bamboo]" in hit.snippet and "[habitats]" in hit.snippet
    assert hit.snippet.startswith("…") and "\n" not in hit.snippet
    (hit,) = search(sessions, '"giant panda"', mark=("<b>", "</b>"))
    assert "<b>giant panda</b>" in hit.snippet  # the phrase, in the body's case
    assert hit.snippet.endswith("…")


# What the old case-blind expressions (an assertion first) found, for the queries below.
_CASE_BLIND = {
    "ab": r"(?<![^\W_])ab(?![^\W_])",
    "s": r"(?<![^\W_])s(?![^\W_])",
    "K": r"(?<![^\W_])k(?![^\W_])",
    "改革": "改革",
    "ab*": r"(?<![^\W_])ab[^\W_]*",
    '"ab s"': r"(?<![^\W_])ab[\W_]+s(?![^\W_])",
}


@settings(max_examples=400, deadline=None)
@given(
    st.text(alphabet=st.sampled_from("abABsSkK \u017f\u0130\u212a\u03a3改革,.'_1"), max_size=40),
    st.sampled_from(sorted(_CASE_BLIND)),
)
@example("x \u017f", "s").via("only a long s")
@example("\u0130 AB", "ab").via("lower() makes two characters of one")
def test_the_snippet_finds_a_match_in_any_case_where_there_is_one(body: str, query: str) -> None:
    marks = storage.search.ranking._Marks(storage.search.ranking.parse(query).marks)
    blind = re.compile(_CASE_BLIND[query], re.IGNORECASE)
    first = marks.first(body)
    if blind.search(body) is None:
        assert first is None
    else:  # a match (the first one in lower case: ſ, the Kelvin sign may come before it)
        assert first is not None and blind.match(body, first)
        if body.isascii():
            assert first == blind.search(body).start()


def test_the_snippet_of_chinese_text(sessions: sessionmaker[Session]) -> None:
    (hit,) = search(sessions, "乡村振兴")
    assert "[乡村振兴]" in hit.snippet
    assert len(hit.snippet) < 100
    (hit,) = search(sessions, "人民政府 NOT 通知")
    assert hit.snippet.count("[人民政府]") == 1 and "[四川" not in hit.snippet


def test_a_replaced_version_is_no_longer_found(engine: Engine) -> None:
    """record_article takes the old text out of the index and puts the new one in."""
    sessions = storage.session_factory(engine)
    old = article(
        "energy",
        "Sichuan Expands Clean Energy",
        "New hydropower stations opened.",
        date(2024, 5, 1),
        NEWS,
    )
    new_body = "New photovoltaic stations opened in Ganzi."
    new = article("energy", old.title, new_body, date(2024, 5, 1), NEWS)
    with sessions.begin() as session:
        storage.record_article(session, old, SEEN)
    assert found(sessions, "hydropower") == {"energy"}
    with sessions.begin() as session:
        assert storage.record_article(session, new, SEEN + timedelta(days=1)).outcome == (
            storage.Outcome.NEW_VERSION
        )
    assert found(sessions, "hydropower") == set()
    assert found(sessions, "photovoltaic") == {"energy"}


def test_a_researcher_finds_chinese_with_sqlite3_or_psycopg(archive: str) -> None:
    urls = {
        row["url"]
        for article_id in index_search(archive, "四川")
        for row in raw_rows(archive, "SELECT url FROM articles WHERE id = ?", article_id)
    }
    assert urls == {ARTICLES[key].url for key in CHINESE_ARTICLES}


@pytest.mark.parametrize(
    ("query", "says"),
    [
        ('"giant panda', "unbalanced double quote"),
        ("", "empty search query"),
        ("   ", "empty search query"),
        ("AND OR", "AND needs a search term"),
        ("panda OR", "OR needs a search term"),
        ("panda NOT", "NOT needs a term"),
        ("NOT panda", "NOT must follow"),
        ("(panda", "unbalanced parentheses"),
        ("panda)", "unbalanced parentheses"),
        ("panda ()", "empty parentheses"),
        ("* -", "no word to search for"),
    ],
)
def test_a_query_that_cannot_run_says_why_in_one_line(
    sessions: sessionmaker[Session], query: str, says: str
) -> None:
    with pytest.raises(SearchQueryError, match=re.escape(says)) as error:
        search(sessions, query)
    assert "\n" not in str(error.value)


@pytest.mark.parametrize(
    ("query", "expression"),
    [
        ("giant panda", '("giant" AND "panda")'),
        ('"flood control" invest*', '("flood control" AND "invest"*)'),
        ("Chengdu-Chongqing people's", '("Chengdu-Chongqing" AND "people\'s")'),
        ("panda NOT flood rangers", '(("panda" AND "rangers") NOT "flood")'),
        ("(panda OR bamboo) rangers", '(("panda" OR "bamboo") AND "rangers")'),
        ("NEAR(panda) title:x", '("NEAR" AND "panda" AND "title:x")'),
        ('"work 四川"', '"work 四川"'),
        ('"四川省 report"', '"四川 川省 省 report"'),
    ],
)
def test_the_fts5_expression(query: str, expression: str) -> None:
    assert fts_query(query) == expression


@pytest.mark.parametrize("bad", [0, 1])
def test_an_expression_the_database_rejects_is_a_search_query_error(
    archive: str, sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch, bad: int
) -> None:
    """The last line of defence: should a bad MATCH or tsquery ever reach the database, the
    user gets one line."""
    if archive.startswith("sqlite"):
        expression = ['"panda" AND', "nosuchcolumn : panda"][bad]
        monkeypatch.setattr(storage.search.ranking, "fts5", lambda node: expression)
    else:
        expression = ["'panda' &", "panda <-> & ("][bad]
        monkeypatch.setattr(storage.search.postgresql, "tsquery", lambda node: expression)
    with pytest.raises(SearchQueryError, match="cannot read this query") as error:
        search(sessions, "panda")
    assert "\n" not in str(error.value)


def test_an_unknown_column_names_the_known_ones(sessions: sessionmaker[Session]) -> None:
    with pytest.raises(SearchQueryError, match=r"unknown column 'Sport'.*10765 \(Sichuan News\)"):
        search(sessions, "panda", column="Sport")


@pytest.mark.parametrize(
    "options",
    [{"limit": 0}, {"limit": 1001}, {"since": date(2024, 1, 1), "until": date(2023, 1, 1)}],
)
def test_bad_options(sessions: sessionmaker[Session], options: dict[str, object]) -> None:
    with pytest.raises(SearchQueryError):
        search(sessions, "panda", **options)


def test_limit(sessions: sessionmaker[Session]) -> None:
    assert len(search(sessions, "Sichuan", limit=2)) == 2


@pytest.mark.parametrize(
    "query",
    [
        'panda"',
        "title:panda",
        "NEAR(panda",
        "NEAR(panda rangers, 2)",
        "-panda",
        "^panda",
        "panda:",
        "* panda",
        "panda -",
        '"" panda',
        "{panda}",
        "panda AND (NOT)",
        "\x00panda",
        "🐼 panda",
    ],
)
def test_hostile_input_is_searched_or_refused(sessions: sessionmaker[Session], query: str) -> None:
    try:
        search(sessions, query)
    except SearchQueryError as error:
        assert "\n" not in str(error)


@settings(
    max_examples=300,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    st.text()
    | st.lists(
        st.sampled_from(
            [
                "AND",
                "OR",
                "NOT",
                "NEAR",
                "(",
                ")",
                '"',
                "*",
                "-",
                "^",
                ":",
                "+",
                "'",
                " ",
                "panda",
                "四",
                "四川",
                "人民政府",
                "invest",
                "title",
                "x\u0301",
                "ǃ",
                "\U0002000b",
            ]
        )
    ).map("".join)
)
def test_any_text_is_searched_or_refused(sessions: sessionmaker[Session], query: str) -> None:
    try:
        hits = search(sessions, query)
    except SearchQueryError as error:
        assert "\n" not in str(error)
    else:
        assert len(hits) <= 20


def test_phrases_deep_in_a_very_long_article(engine: Engine) -> None:
    """PostgreSQL keeps word positions up to 16383 (256 per word): an article longer than that
    is checked on its text for phrases, so both backends find what lies beyond."""
    filler = " ".join(f"item{n % 500}" for n in range(20000))  # 20000 terms, each 40 times
    body = f"{filler} giant panda {filler} 四川省人民政府"
    sessions = storage.session_factory(engine)
    with sessions.begin() as session:
        storage.record_article(
            session, article("long", "A Very Long Report", body, date(2024, 5, 1), NEWS), SEEN
        )
        storage.record_article(session, ARTICLES["panda"], SEEN)
    assert found(sessions, '"giant panda"') == {"long", "panda"}
    assert found(sessions, "人民政府") == {"long"}
    assert found(sessions, '"item7 item8"') == {"long"}  # also near the end
    assert found(sessions, '"panda giant"') == set()
    assert found(sessions, '"item8 item7"') == set()
    assert found(sessions, 'item3 NOT "giant panda"') == set()
    assert found(sessions, 'panda NOT "四川省人民政府"') == {"panda"}
    assert found(sessions, '"panda giant" OR rangers') == {"panda"}
    if engine.dialect.name == "postgresql":
        with sessions() as session:
            complete = session.execute(text("SELECT complete FROM articles_fts ORDER BY 1")).all()
        assert [row.complete for row in complete] == [False, True]
