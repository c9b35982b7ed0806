"""Synthetic article text: English varied per article, some Chinese, deterministic per seed.

English sentences come from a word-level Markov chain over the bodies of the saved site's
articles (tests/fixtures/site), plus sentences naming people and places built from pinyin
syllables, so the vocabulary has a long tail like a real news archive. Numbers are redrawn per
article. English articles sometimes carry a Chinese term in quotes; Chinese articles (a share of
the archive benchmark) are built from phrases of the provincial government's own vocabulary.
"""

from __future__ import annotations

import json
import random
import re
from collections import defaultdict
from dataclasses import dataclass
from functools import cache
from pathlib import Path

SITE = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "site"
_DIGITS = re.compile(r"\d+")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


PLACES = _words(
    "Chengdu Zigong Panzhihua Luzhou Deyang Mianyang Guangyuan Suining Neijiang "
    "Leshan Nanchong Meishan Yibin Guang'an Dazhou Ya'an Bazhong Ziyang Aba Ganzi "
    "Liangshan Dujiangyan Emeishan Jiuzhaigou Xichang Kangding Langzhong Jiangyou "
    "Pengzhou Qionglai Chongzhou Jianyang"
)
SYLLABLES = _words(
    "an bai bin bo chang chen cheng chun da dong fang fei feng gang guo hai han hao "
    "hong hua hui jian jiang jie jin jun kai lan lei li lian lin ling long mei min "
    "ming nan ning peng ping qiang qin qing rong rui shan sheng shu song tao tian "
    "ting wei wen xia xiang xiao xin xing xu yan yang yi ying yong yu yuan yun ze "
    "zhen zheng zhi zhong zhou"
)
SURNAMES = _words(
    "Wang Li Zhang Liu Chen Yang Huang Zhao Wu Zhou Xu Sun Ma Zhu Hu Guo He Luo Gao Lin"
)
ROLES = (
    "vice governor",
    "director of the provincial department of commerce",
    "Party secretary of the city",
    "mayor",
    "head of the county",
    "deputy director of the provincial development and reform commission",
    "spokesperson of the provincial government",
    "chairman of the company",
    "researcher at the Sichuan Academy of Social Sciences",
)
TOPICS = (
    "Rural Revitalization",
    "Flood Prevention",
    "Giant Panda Protection",
    "Investment Promotion",
    "Business Environment",
    "Ecological Protection",
    "Tourism Recovery",
    "Grain Production",
    "Energy Supply",
    "Digital Economy",
    "Chengdu-Chongqing Economic Circle",
    "Employment Services",
    "Education Reform",
    "Healthcare Reform",
    "Transport Infrastructure",
    "Cultural Heritage",
)
VERBS = (
    "Steps Up",
    "Launches",
    "Reviews",
    "Promotes",
    "Inspects",
    "Unveils Plan for",
    "Holds Meeting on",
    "Reports Progress in",
    "Signs Agreements on",
    "Adopts Measures for",
)
CHINESE_TERMS = (
    "天府粮仓",
    "乡村振兴",
    "成渝地区双城经济圈",
    "大熊猫国家公园",
    "营商环境",
    "四川省人民政府",
    "高质量发展",
    "深化改革",
    "放管服改革",
    "川菜",
)
ZH_PLACES = _words(
    "四川 成都 自贡 攀枝花 泸州 德阳 绵阳 广元 遂宁 内江 乐山 南充 宜宾 雅安 凉山 甘孜 阿坝"
)
ZH_SUBJECTS = _words("省政府 省委 市政府 县政府 省发展改革委 省商务厅 省文化和旅游厅 省农业农村厅")
ZH_ACTIONS = _words(
    "召开会议研究部署 印发实施方案推进 开展专项行动加快 举行新闻发布会介绍 调研督导"
)
ZH_TOPICS = _words(
    "乡村振兴 营商环境 生态保护 改革开放 高质量发展 科技创新 大熊猫国家公园 "
    "成渝地区双城经济圈 防汛减灾 文化旅游 粮食生产 能源保供 数字经济 就业服务 "
    "教育改革 医疗卫生 交通建设"
)
ZH_CLAUSES = (
    "要求各地各部门切实提高政治站位",
    "确保各项任务落地见效",
    "全力推动经济社会持续健康发展",
    "进一步深化重点领域改革",
    "持续优化政务服务",
    "切实保障人民群众生命财产安全",
    "加快建设现代化产业体系",
    "不断增强人民群众获得感幸福感安全感",
)


@cache
def fixture_sentences() -> tuple[str, ...]:
    """Every English sentence of the saved site's article bodies."""
    sentences = []
    for page in sorted(SITE.rglob("*.expected.json")):
        data = json.loads(page.read_text("utf-8"))
        if data.get("language", "en") != "en":
            continue
        for paragraph in data["body"]:
            sentences += [s for s in _SENTENCE_END.split(paragraph) if len(s.split()) >= 6]
    return tuple(sentences)


@cache
def sentence_pool(size: int = 6000, seed: int = 7) -> tuple[str, ...]:
    """Fixture sentences and Markov recombinations of them, `size` in all."""
    rng = random.Random(seed)
    source = fixture_sentences()
    chain: dict[tuple[str, str], list[str]] = defaultdict(list)
    starts = []
    for sentence in source:
        words = sentence.split()
        starts.append((words[0], words[1]))
        for a, b, c in zip(words, words[1:], words[2:], strict=False):
            chain[(a, b)].append(c)
    pool = list(source)
    while len(pool) < size:
        words = list(rng.choice(starts))
        while len(words) < 60 and not words[-1].endswith((".", "!", "?")):
            following = chain.get((words[-2], words[-1]))
            if not following:
                break
            words.append(rng.choice(following))
        if 8 <= len(words) < 60 and words[-1].endswith((".", "!", "?")):
            pool.append(" ".join(words))
    return tuple(pool)


def _name(rng: random.Random) -> str:
    given = "".join(rng.choice(SYLLABLES) for _ in range(rng.choice((1, 2))))
    return f"{rng.choice(SURNAMES)} {given.capitalize()}"


def _people_sentence(rng: random.Random) -> str:
    place = rng.choice(PLACES)
    return rng.choice(
        (
            f"{_name(rng)}, {rng.choice(ROLES)}, said the work in {place} would continue.",
            f"According to {_name(rng)}, {rng.choice(ROLES)}, {place} has set up "
            f"{rng.randint(2, 90)} working groups.",
            f"{_name(rng)} from {rng.choice(SYLLABLES).capitalize()}"
            f"{rng.choice(SYLLABLES)} village in {place} said life had improved.",
        )
    )


def _chinese_sentence(rng: random.Random) -> str:
    term = rng.choice(CHINESE_TERMS)
    return rng.choice(
        (
            f'The plan is known in Chinese as "{term}".',
            f"Officials referred to the {rng.choice(TOPICS).lower()} programme ({term}).",
        )
    )


@dataclass(frozen=True)
class Text:
    title: str
    paragraphs: tuple[str, ...]
    language: str


def english_article(rng: random.Random, chars: int = 6500) -> Text:
    """About `chars` characters of English in paragraphs of 2-6 sentences."""
    pool = sentence_pool()
    sentences: list[str] = []
    total = 0
    while total < chars:
        roll = rng.random()
        if roll < 0.08:
            sentence = _people_sentence(rng)
        elif roll < 0.11:
            sentence = _chinese_sentence(rng)
        else:
            sentence = _DIGITS.sub(lambda m: str(rng.randint(1, 10 ** len(m[0]))), rng.choice(pool))
        sentences.append(sentence)
        total += len(sentence) + 1
    paragraphs = []
    while sentences:
        take = rng.randint(2, 6)
        paragraphs.append(" ".join(sentences[:take]))
        sentences = sentences[take:]
    return Text(english_title(rng), tuple(paragraphs), "en")


def english_title(rng: random.Random) -> str:
    place = rng.choice(PLACES)
    return rng.choice(
        (
            f"{place} {rng.choice(VERBS)} {rng.choice(TOPICS)}",
            f"Sichuan {rng.choice(VERBS)} {rng.choice(TOPICS)} in {place}",
            f"{rng.choice(TOPICS)}: {place} Sets {rng.randint(2, 60)} New Targets",
        )
    )


def chinese_article(rng: random.Random, chars: int = 2500) -> Text:
    """About `chars` characters of Chinese, sentences of the government's phrases."""
    paragraphs = []
    total = 0
    while total < chars:
        sentences = []
        for _ in range(rng.randint(2, 5)):
            place, topic = rng.choice(ZH_PLACES), rng.choice(ZH_TOPICS)
            sentences.append(
                f"{place}{rng.choice(ZH_SUBJECTS)}{rng.choice(ZH_ACTIONS)}{topic}工作，"
                f"{rng.choice(ZH_CLAUSES)}，{rng.choice(ZH_CLAUSES)}。"
            )
        paragraph = "".join(sentences)
        paragraphs.append(paragraph)
        total += len(paragraph)
    title = f"{rng.choice(ZH_PLACES)}{rng.choice(ZH_ACTIONS)}{rng.choice(ZH_TOPICS)}工作"
    return Text(title, tuple(paragraphs), "zh")
