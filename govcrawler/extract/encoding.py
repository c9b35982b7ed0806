"""Bytes to text the way the site needs: the declared charset, with a gb18030 rescue.

Old pages of the site are GB2312/GBK; a server or a copy may also announce the wrong charset
in its headers. `page_text` follows the HTTP header, then the page's own declaration (w3lib's
rules, as Scrapy does); when that decoding produces replacement characters but the page's own
declaration or gb18030 decodes the bytes cleanly, the clean decoding wins. Bytes that are valid
UTF-8 with non-ASCII characters are UTF-8 whatever a header says (GBK text is almost never valid
UTF-8, while UTF-8 decoded as GBK gives plausible-looking nonsense without any error); a few
stray bytes in an otherwise valid page stay replacement characters.
"""

from __future__ import annotations

from w3lib.encoding import html_body_declared_encoding, html_to_unicode, resolve_encoding

REPLACEMENT = "\ufffd"


def page_text(body: bytes, content_type: str | None) -> tuple[str, str]:
    """The page's text and the encoding that produced it."""
    encoding, text = html_to_unicode(content_type, body)
    if encoding not in ("utf-8", "utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be"):
        try:
            if not body.isascii():
                return body.decode("utf-8"), "utf-8"
        except UnicodeDecodeError:
            pass
    if _mostly_valid(text, body):
        return text, encoding
    for candidate in (html_body_declared_encoding(body), "gb18030"):
        name = resolve_encoding(candidate) if candidate else None
        if name and name != encoding:
            try:
                return body.decode(name), name
            except (UnicodeDecodeError, LookupError):
                continue
    return text, encoding


def _mostly_valid(text: str, body: bytes) -> bool:
    """No replacement character, or a few stray ones in bytes that are otherwise well
    encoded (a byte pasted from another encoding into a UTF-8 page: re-decoding the whole
    page in another encoding would garble everything else). A page in the wrong encoding
    fails on most of its non-ASCII bytes; a stray byte is a small share of them."""
    bad = text.count(REPLACEMENT)
    if not bad:
        return True
    non_ascii = sum(1 for byte in body if byte > 127)
    return bad * 4 <= non_ascii - bad
