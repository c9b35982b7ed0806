# ruff: noqa: E501  (HTML templates: lines as the site has them)
"""HTML of the synthetic site, in the saved site's three template generations.

Article pages follow tests/fixtures/site: generation A (2014-2018, `#cmsArticleContent`, 2017
English footer), B (2019-2022, `div.contText`, 2022 English footer) and C (2023 on,
`div.artleft .TRS_Editor`, Chinese footer). Real pages weigh about 40 KB, most of it chrome:
a menu of the whole portal, a "Latest" box, and the CMS's inline scripts, all reproduced here.
List pages have an HTML pager (`index_N.shtml`) or the script pager `createPageHTML(...)`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from html import escape

from benchmarks.corpus import Text

SITE_NAME = "Sichuan Provincial People&#39;s Government"
FOOTER_2017 = """<div id="footer">
    <p>Copyright held by the General Office of Sichuan Provincial People’s Government. All Rights Reserved.</p>
    <p>Technical Support: Sichuan Telecom.</p>
    <p>Website Maintenance: Sichuan Provincial E-Administration Extranet Center; Tel:86-28-86716305</p>
  </div>"""
FOOTER_2022 = """<div class="footer"><div class="w1200 clearfix"><div class="foot-info">
<p>Unit in Charge: General Office of Sichuan Provincial People’s Government</p>
<p>Organizer: Sichuan Provincial Big Data Center</p>
<p>Website Operation and Maintenance: China Telecom Sichuan Branch</p>
<p><span>Website Identification Code: 5100000062</span> <span><a href="https://beian.miit.gov.cn/" target="_blank">Sichuan ICP No. 13001288</a></span></p>
<p><a href="http://www.beian.gov.cn/portal/registerSystemInfo?recordcode=51010402000507" target="_blank"><img src="/10462/10758/images/en_gaba.png" alt="">Sichuan Computer Information Network and Internet Security Record No. 51010402000507</a></p>
</div></div></div>"""
FOOTER_CN = """<div class="footer footer-cn"><div class="w1200 clearfix"><div class="foot-txt">
<p><span>主办单位：四川省人民政府办公厅</span></p>
<p><span>承办：四川省大数据中心</span></p>
<p><span>运行维护：中国电信股份有限公司四川分公司</span></p>
<p><span>网站标识码：5100000062</span></p>
<p><a href="https://beian.miit.gov.cn/" target="_blank">蜀ICP备13001288号</a></p>
<p><a href="http://www.beian.gov.cn/portal/registerSystemInfo?recordcode=51010402000507" target="_blank"><img src="/10462/images/ga.png" alt="">川公网安备 51010402000507号</a></p>
</div></div></div>"""
_MENU = "\n".join(
    f'<li><a href="/10462/10758/{section}/{section + n}/index.shtml">{label} {n}</a></li>'
    for section, label in ((10759, "Government"), (11789, "Services"), (11790, "Investment"))
    for n in range(1, 19)
)
NAV = f"""<div class="topbar"><div class="w1200 clearfix"><div class="lang fl">
<a href="/10462/index.shtml" target="_blank" class="simp">Simp. Chinese</a><em>|</em><a href="javascript:void(0);" id="StranLink" class="trad">Trad. Chinese</a>
</div></div></div>
<div class="header"><div class="w1200 clearfix"><div class="logo fl"><a href="/10462/10758/index.shtml"><img src="/10462/10758/images/logo_en.png" alt="{SITE_NAME}"></a></div></div></div>
<div class="nav"><div class="w1200"><ul class="clearfix">
<li><a href="/10462/10758/10759/index.shtml" target="_self">Government</a></li>
<li class="on"><a href="/10462/10758/10760/index.shtml" target="_self">Open Governance</a></li>
<li><a href="/10462/10758/11789/index.shtml" target="_self">Services</a></li>
<li><a href="/10462/10758/11790/index.shtml" target="_self">Investment</a></li>
<li><a href="/10462/10758/11791/index.shtml" target="_self">Tourism</a></li>
<li><a href="/10462/10758/11792/index.shtml" target="_self">Navigator</a></li>
</ul><ul class="nav-sub">{_MENU}</ul></div></div>"""
# The CMS's inline scripts (share widget, statistics, font size, traditional characters).
SCRIPTS = (
    '<script type="text/javascript">\n'
    + "\n".join(
        f"function w{i}(a,b){{var c=document.getElementById('w{i}');if(!c){{return;}}"
        f"for(var d=0;d<a.length;d++){{c.innerHTML+='<span class=\"s{i}\">'+a[d]+b+'</span>';}}}}"
        for i in range(170)
    )
    + "\n</script>"
)


@dataclass(frozen=True)
class Link:
    url: str
    title: str
    published_on: date


def _head(title: str, column: str, published_on: date, url: str, text: Text) -> str:
    description = escape(text.paragraphs[0][:120]) if text.paragraphs else ""
    return f"""<head>
<meta charset="utf-8">
<title>{escape(title)}_{SITE_NAME}</title>
<meta name="SiteName" content="四川省人民政府">
<meta name="SiteDomain" content="www.sc.gov.cn">
<meta name="SiteIDCode" content="5100000062">
<meta name="ColumnName" content="{escape(column)}">
<meta name="ColumnType" content="{escape(column)}">
<meta name="ArticleTitle" content="{escape(title)}">
<meta name="PubDate" content="{published_on:%Y-%m-%d} 10:20:16">
<meta name="ContentSource" content="Sichuan Daily">
<meta name="Description" content="{description}">
<meta name="Url" content="{url}">
<link rel="stylesheet" type="text/css" href="/10462/10758/css/en_base.css">
<script type="text/javascript" src="/js/common.js"></script>
</head>"""


def _paragraphs(text: Text, style: str) -> str:
    return "\n".join(f'<p style="{style}">{escape(p, quote=False)}</p>' for p in text.paragraphs)


def _latest(links: list[Link]) -> str:
    items = "\n".join(
        f'<li><a href="{link.url}" target="_blank">{escape(link.title)}</a></li>' for link in links
    )
    return f'<div class="fr sidebar"><h3>Latest</h3><ul class="newslist">{items}</ul></div>'


def _stat(column_id: str, doc_id: str) -> str:
    return f"""{SCRIPTS}
<script type="text/javascript">
  var _pageInfo = {{ siteId: "5100000062", channelId: "{column_id}", docId: "{doc_id}", lang: "en" }};
</script>"""


def article_page(
    url: str,
    doc_id: str,
    column: tuple[str, str],
    published_on: date,
    text: Text,
    latest: list[Link],
    media: str = "",
) -> str:
    """An article page in the template generation of its year; `media` (HTML: an image, an
    attachment link) ends its body."""
    column_id, column_name = column
    head = _head(text.title, column_name, published_on, url, text)
    title, when = escape(text.title), f"Updated:{published_on:%Y.%m.%d}"
    if published_on.year <= 2018:
        body = f"""<div id="container"><div id="menu">{NAV}</div>
<table width="980" class="mainbox"><tr><td class="position"><span class="lanmu">Open Governance</span></td></tr>
<tr><td valign="top" class="article"><div id="cmsArticleContent"><ucaptitle>{title}</ucaptitle>
<div id="articleattribute"><ul><li>{when}</li><li>Font size: <a href="javascript:doZoom(16)">A+</a></li></ul></div>
<ucapcontent>
{_paragraphs(text, "text-indent: 2em; line-height: 1.75;")}{media}
</ucapcontent></div></td></tr></table>
{_latest(latest)}
{FOOTER_2017}</div>"""
    elif published_on.year <= 2022:
        body = f"""{NAV}
<div class="main w1200"><div class="crumb"><span class="column">Open Governance</span></div>
<input type="hidden" id="manuscriptId" value="{doc_id}">
<div class="contMain"><div class="contTitle"><h2>{title}</h2><div class="contDate">{when}</div></div>
<div class="contText"><div class="view TRS_UEDITOR trs_paper_default trs_web">
{_paragraphs(text, "text-align: justify;")}{media}
</div></div>
<div class="share">Share to: <a href="javascript:void(0);" class="wx">WeChat</a> <a href="javascript:void(0);" class="wb">Weibo</a></div>
</div>{_latest(latest)}</div>
{FOOTER_2022}"""
    else:
        body = f"""{NAV}
<div class="w1200 content clearfix"><div class="sub-lanmu"><h3>Open Governance</h3></div>
<input type="hidden" id="manuscriptId" value="{doc_id}">
<div class="artleft"><h1>{title}</h1>
<div class="artinfo clearfix"><span class="artdate">{when}</span><span class="fontsize">Font size: <a href="javascript:void(0);">Large</a></span></div>
<div class="artcon" id="artcon"><div class="TRS_Editor"><style type="text/css">.TRS_Editor P{{margin-top:0;line-height:1.8;font-family:Arial;font-size:12pt;}}</style>
{_paragraphs(text, "text-indent: 2em; text-align: justify;")}{media}
</div></div></div>{_latest(latest)}</div>
{FOOTER_CN}"""
    return f"""<!DOCTYPE html>
<html lang="en">
{head}
<body>
{body}
{_stat(column_id, doc_id)}
</body>
</html>
"""


def _newslist(links: list[Link]) -> str:
    return "\n".join(
        f'<li><a href="{link.url}" target="_blank" title="{escape(link.title)}">'
        f'{escape(link.title)}</a><span class="date">{link.published_on:%Y-%m-%d}</span></li>'
        for link in links
    )


def _leftmenu(columns: list[tuple[str, str, str]]) -> str:
    items = "\n".join(f'<li><a href="{url}">{escape(name)}</a></li>' for _, name, url in columns)
    return f'<div class="fl"><div class="leftmenu"><h3>Open Governance</h3><ul>{items}</ul></div></div>'


def html_pager(stem: str, number: int, count: int, total: int) -> str:
    """The pager drawn in HTML: first, previous, a window of numbers, next, last."""

    def href(n: int) -> str:
        return f"{stem}.shtml" if n <= 1 else f"{stem}_{n}.shtml"

    parts = [f'<a href="{href(1)}" class="first">First</a>']
    if number > 1:
        parts.append(f'<a href="{href(number - 1)}" class="prev">Prev</a>')
    for n in range(max(1, number - 4), min(count, number + 4) + 1):
        parts.append(
            f'<span class="current">{n}</span>' if n == number else f'<a href="{href(n)}">{n}</a>'
        )
    if number < count:
        parts.append(f'<a href="{href(number + 1)}" class="next">Next</a>')
    parts.append(f'<a href="{href(count)}" class="last">Last</a>')
    parts.append(f'<span class="total">{total} records, page {number} of {count}</span>')
    return '<div class="page">' + "\n".join(parts) + "</div>"


def script_pager(stem: str, number: int, count: int, total: int) -> str:
    """The pager drawn by the CMS's script (`/js/page.js`), as on the work-report list."""
    return (
        '<div class="page" id="page_div"></div><script type="text/javascript">'
        f"createPageHTML('page_div',{count},{number},'{stem}','shtml',{total});</script>"
    )


def list_page(
    column: tuple[str, str],
    columns: list[tuple[str, str, str]],
    links: list[Link],
    pager: str,
) -> str:
    """One page of a column's list, newest first."""
    column_id, name = column
    return f"""<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>{escape(name)}_Open Governance_{SITE_NAME}</title>
<meta name="ColumnName" content="{escape(name)}"></head>
<body>
{NAV}
<div class="main w1200 clearfix"><div class="crumb"><span class="column">Open Governance</span> &gt; <span>{escape(name)}</span></div>
{_leftmenu(columns)}
<div class="fr listbox"><div class="list-title"><h2>{escape(name)}</h2></div>
<div class="list-con"><ul class="newslist">
{_newslist(links)}
</ul>
{pager}
</div></div></div>
{FOOTER_2022}
{_stat(column_id, "0")}
</body>
</html>
"""


def channel_page(columns: list[tuple[str, str, str]], latest: dict[str, list[Link]]) -> str:
    """The Open Governance channel: every column with its latest articles."""
    blocks = "\n".join(
        f'<div class="ch-block"><div class="ch-title"><h2>{escape(name)}</h2>'
        f'<a class="more" href="{url}">More</a></div>'
        f'<ul class="newslist">{_newslist(latest[column_id])}</ul></div>'
        for column_id, name, url in columns
    )
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Open Governance_{SITE_NAME}</title></head>
<body>
{NAV}
<div class="main w1200 clearfix"><div class="crumb"><span class="column">Open Governance</span></div>
{_leftmenu(columns)}
<div class="fr channel">{blocks}</div></div>
{FOOTER_2022}
{_stat("10760", "0")}
</body></html>
"""


def home_page(columns: list[tuple[str, str, str]], latest: list[Link]) -> str:
    """The English home page: the channel, the latest articles, each column's list."""
    lists = "\n".join(f'<p><a href="{url}">{escape(name)}</a></p>' for _, name, url in columns)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{SITE_NAME}</title></head>
<body>
{NAV}
<div class="main w1200 clearfix"><div class="home-left fl"><div class="headline">
<div class="hl-title"><h2>Open Governance</h2><a class="more" href="/10462/10758/10760/index.shtml">More</a></div>
<ul class="newslist">{_newslist(latest)}</ul></div></div>
<div class="home-right fr"><div class="home-block">{lists}</div>
<div class="home-block friendly"><ul><li><a href="http://www.gov.cn/" target="_blank">The Central People's Government</a></li></ul></div>
</div></div>
{FOOTER_2022}
{_stat("10758", "0")}
</body></html>
"""
