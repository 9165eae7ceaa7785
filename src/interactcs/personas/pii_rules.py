"""National-ID and street-address rules of the PII masker (:mod:`interactcs.personas.pii`).

Usage::

    from collections import Counter
    counts = Counter()
    mask_addresses("ship to Hauptstraße 5 or 12 rue de la Paix", counts)
    # -> "ship to [ADDRESS] or [ADDRESS]", counts == {"address": 2}

National IDs are masked when their shape passes the country's check (``python-stdnum``:
Spanish DNI/NIE, Italian codice fiscale, Chinese resident ID, Brazilian CPF, Korean RRN), when
the shape alone is distinctive (US SSN ``123-45-6789``, UK NI number, French NIR), or when an
ID-looking token follows a cue word (passport, ID number, 身份证, ...). Addresses are matched by
street words of English, German, Dutch, French, Spanish, Portuguese, Italian and Russian, by the
administrative suffixes of Chinese, Japanese and Korean addresses, and by UK / Japanese postcode
shapes. Every pattern is bounded (no nested quantifiers), so masking stays linear.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable

from stdnum.br import cpf
from stdnum.cn import ric
from stdnum.es import dni, nie
from stdnum.it import codicefiscale
from stdnum.kr import rrn

__all__ = ["mask_addresses", "mask_national_ids"]

ID_PLACEHOLDER = "[ID]"
ADDRESS_PLACEHOLDER = "[ADDRESS]"

# (pattern, check of the compact match or None when the shape is enough)
_CHECKED_IDS: list[tuple[re.Pattern[str], Callable[[str], bool] | None]] = [
    (re.compile(r"(?<![\w-])\d{3}-\d{2}-\d{4}(?![\w-])"), None),  # US SSN
    (  # UK National Insurance number
        re.compile(r"\b[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z] ?\d{2} ?\d{2} ?\d{2} ?[A-D]\b"),
        None,
    ),
    (  # French NIR (social security number), 13 digits + 2-digit key
        re.compile(r"\b[12] ?\d{2} ?(?:0[1-9]|1[0-2]) ?(?:\d{2}|2[AB]) ?\d{3} ?\d{3} ?\d{2}\b"),
        None,
    ),
    (re.compile(r"\b\d{8}-?[A-Za-z]\b"), dni.is_valid),  # Spanish DNI
    (re.compile(r"\b[XYZxyz]-?\d{7}-?[A-Za-z]\b"), nie.is_valid),  # Spanish NIE
    (re.compile(r"\b[A-Za-z]{6}\d{2}[A-Za-z]\d{2}[A-Za-z]\d{3}[A-Za-z]\b"), codicefiscale.is_valid),
    (re.compile(r"(?<!\d)\d{17}[\dXx](?![\dA-Za-z])"), ric.is_valid),  # Chinese resident ID
    (re.compile(r"(?<![\d.])\d{3}\.\d{3}\.\d{3}-\d{2}(?!\d)"), cpf.is_valid),  # Brazilian CPF
    (re.compile(r"(?<!\d)\d{6}-[1-4]\d{6}(?!\d)"), rrn.is_valid),  # Korean RRN
]
_ID_CUE = re.compile(
    r"(?:\b(?:passport|passeport|reisepass|pasaporte|passaporto|ssn|social security|"
    r"national (?:id|insurance)|id (?:card |number|no\.?)|identity (?:card|number)|"
    r"personalausweis|ausweis(?:nummer)?|dni|nie|nif|cpf|aadhaar|pan|nino|tax id|"
    r"steuer-?id|bsn|codice fiscale)\b|身份证(?:号码?)?|マイナンバー|"
    r"주민등록번호|паспорт)"
    r"[^\w\n]{0,12}(?:(?:is|number|no\.?|nr\.?|ist|est|es|é)[^\w\n]{1,6})?"
    r"([A-Za-z0-9](?:[A-Za-z0-9]| (?=\d)|-(?=\w)){5,22})",
    re.IGNORECASE,
)

_EN_STREET = (
    "Street|St|Road|Rd|Avenue|Ave|Lane|Ln|Drive|Dr|Boulevard|Blvd|Way|Court|Ct|Place|Pl|"
    "Terrace|Close|Crescent|Square|Sq|Highway|Hwy|Parkway|Row|Walk|Gardens"
)
_WORD = r"[^\W\d_][\w'’-]*"
# words that do not name a street ("3 blocks down the avenue" is not an address)
_FUNCTION = r"(?:the|a|an|of|to|down|up|on|in|at|from|by|my|your|our|this|that|and|or|more)"
_ADDRESSES: list[re.Pattern[str]] = [
    # English, capitalised: 42 Elm Street, 5B Kings Cross Road
    re.compile(
        rf"(?<![\w#/-])\d{{1,5}}[A-Za-z]?,?\s+(?:[A-Z][A-Za-z'-]+\s+){{1,3}}(?:{_EN_STREET})\b\.?"
    ),
    # French: 12 rue de la Paix, 5 bis avenue Victor Hugo, 3 place d'Italie
    re.compile(
        r"(?<![\w#/-])\d{1,4}(?:\s?(?:bis|ter))?,?\s+"
        r"(?:rue|avenue|av\.|boulevard|bd|place|chemin|allée|impasse|quai|cours|route)\s+"
        r"(?:de la |de l'|du |des |de |d')?" + _WORD + r"(?:[ -]" + _WORD + r"){0,2}",
        re.IGNORECASE,
    ),
    # English, any case, unambiguous street words: 17 harbour road, 221b baker street
    re.compile(
        rf"(?<![\w#/-])\d{{1,5}}[A-Za-z]?,?\s+(?:(?!{_FUNCTION}\s){_WORD}\s+){{1,3}}"
        r"(?:street|road|avenue|boulevard|lane|blvd|st\.|rd\.|ave\.)(?!\w)",
        re.IGNORECASE,
    ),
    # German / Dutch compounds and separate street words: Hauptstraße 5, Keizersgracht 123,
    # Berliner Straße 10a, kerkstraat 12
    re.compile(
        r"\b(?:[A-ZÄÖÜ][\wäöüß-]+\s)?[\wäöüß-]*"
        r"(?:straße|strasse|str\.|gasse|allee|platz|weg|damm|ufer|chaussee|"
        r"straat|laan|gracht|plein|kade|singel|dijk|steeg)"
        r"\s?\d{1,4}\s?[a-zA-Z]?\b",
        re.IGNORECASE,
    ),
    # Spanish / Portuguese / Italian: Calle Mayor 5, c/ Alcalá 45, Rua Augusta, 123, Via Roma 10
    re.compile(
        r"\b(?:(?:calle|avenida|avda\.?|paseo|carrer|rua|travessa|viale|piazza|vicolo|"
        r"(?-i:Via|Largo|Corso|Plaza))\s+|c/\s?)"  # English words only when capitalised
        r"(?:de la |del |de |da |do |dos |das |della |dei |di )?"
        + _WORD
        + r"(?:\s"
        + _WORD
        + r"){0,2},?\s+(?:n[º°o.]\s?)?\d{1,4}\b",
        re.IGNORECASE,
    ),
    # Russian: ул. Ленина, д. 5; улица Тверская 7; проспект Мира 12
    re.compile(
        r"(?:ул\.|улица|пр\.|просп\.|проспект|пер\.|переулок|шоссе|бульвар|наб\.)\s?"
        r"[\w-]+(?:\s[\w-]+)?,?\s(?:д\.|дом)?\s?\d{1,4}",
        re.IGNORECASE,
    ),
    # Chinese: 北京市朝阳区建国路88号, 上海市浦东新区世纪大道100号5楼
    re.compile(
        r"[\u4e00-\u9fff]{0,20}(?:路|街|道|巷|弄|大道)\s?[0-9０-９]{1,5}\s?号"
        r"(?:\s?[0-9０-９]{1,5}\s?(?:室|楼|层|单元|栋))*"
    ),
    # Japanese: 東京都千代田区丸の内1-2-3, 大阪市北区梅田3丁目1番1号; postcode 〒100-0005
    re.compile(
        r"[\u4e00-\u9fff\u3040-\u30ff]{1,12}(?:都|道|府|県|市|区|町|村)"
        r"[\u4e00-\u9fff\u3040-\u30ff]{0,12}[0-9０-９]{1,4}"
        r"(?:\s?(?:丁目|番地?|号|-|－|−)\s?[0-9０-９]{0,4}){1,4}"
    ),
    re.compile(r"〒\s?\d{3}-\d{4}"),
    # Korean: 서울특별시 강남구 테헤란로 123, 종로구 세종대로 175-1
    re.compile(
        r"(?:[\uac00-\ud7af]{1,8}(?:시|도|구|군)\s){0,3}[\uac00-\ud7af0-9]{1,12}(?:로|길)"
        r"\s?\d{1,4}(?:-\d{1,4})?(?:번길\s?\d{1,4})?"
    ),
    # UK postcode: SW1A 1AA, M1 1AE
    re.compile(r"\b[A-Z]{1,2}\d[A-Z\d]? \d[A-Z]{2}\b"),
]


def mask_national_ids(text: str, counts: Counter[str]) -> str:
    """Replace national ID numbers in ``text`` by ``[ID]``; adds to ``counts["national_id"]``."""

    def checked(check: Callable[[str], bool] | None) -> Callable[[re.Match[str]], str]:
        def repl(m: re.Match[str]) -> str:
            compact = re.sub(r"[\s.-]", "", m.group(0)).upper()
            if check is not None and not check(compact):
                return m.group(0)
            counts["national_id"] += 1
            return ID_PLACEHOLDER

        return repl

    for pattern, check in _CHECKED_IDS:
        text = pattern.sub(checked(check), text)

    def cued(m: re.Match[str]) -> str:
        token = m.group(1)
        if sum(ch.isdigit() for ch in token) < 2:  # a word, not an ID ("ID card is lost")
            return m.group(0)
        counts["national_id"] += 1
        whole, a = m.group(0), m.start(1) - m.start()
        return whole[:a] + ID_PLACEHOLDER + whole[a + len(token) :]

    return _ID_CUE.sub(cued, text)


def mask_addresses(text: str, counts: Counter[str]) -> str:
    """Replace street addresses in ``text`` by ``[ADDRESS]``; adds to ``counts["address"]``."""
    for pattern in _ADDRESSES:
        text, n = pattern.subn(ADDRESS_PLACEHOLDER, text)
        counts["address"] += n
    return text
