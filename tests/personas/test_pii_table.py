"""PII masking measured on a table of cases from many countries and scripts (issue 13).

Each PII case names the secret strings that must vanish from the masked text; recall is the
share of secrets that vanished and must be at least 95 %. Each benign case (order ids, prices,
times, quantities, voucher codes) must come back unchanged: no false positive is allowed.
The figures are printed (``pytest -s``) and quoted in the README.
"""

from __future__ import annotations

import pytest

from interactcs.personas.pii import mask_pii

# (country / script, text, secrets that must not survive)
PII_CASES: list[tuple[str, str, list[str]]] = [
    # IBANs
    ("DE", "Überweisen Sie an DE89 3704 0044 0532 0130 00 bitte", ["3704 0044", "0532 0130"]),
    ("DE", "my IBAN is DE89370400440532013000.", ["DE89370400440532013000"]),
    ("FR", "IBAN FR14 2004 1010 0505 0001 3M02 606 merci", ["2004 1010", "3M02"]),
    ("NL", "rekening NL91ABNA0417164300 graag", ["NL91ABNA0417164300"]),
    ("NL", "stuur het naar nl91 abna 0417 1643 00", ["0417 1643"]),
    ("GB", "sort it to GB29 NWBK 6016 1331 9268 19 please", ["NWBK", "6016 1331", "9268 19"]),
    ("ES", "mi cuenta ES91 2100 0418 4502 0005 1332", ["2100 0418", "0005 1332"]),
    ("IT", "IBAN: IT60X0542811101000000123456", ["0542811101000000123456"]),
    ("CH", "refund to CH93 0076 2011 6238 5295 7", ["0076 2011", "6238 5295"]),
    ("PL", "konto PL61109010140000071219812874", ["109010140000071219812874"]),
    # phones without a cue word, in national formats
    ("US", "2025550143 is my number", ["2025550143"]),
    ("US", "reach me at 202.555.0143", ["202.555.0143"]),
    ("US", "it's 555 1234 at home", ["555 1234"]),
    ("GB", "07700900123 anytime", ["07700900123"]),
    ("GB", "landline 020 7946 0958", ["7946 0958"]),
    ("DE", "Meine Nummer: 030 12345678", ["12345678"]),
    ("DE", "Handy 01512 3456789", ["3456789"]),
    ("FR", "mon portable 06 12 34 56 78", ["06 12 34 56 78"]),
    ("FR", "appelez le +33 6 12 34 56 78", ["6 12 34 56 78"]),
    ("JP", "電話は090-1234-5678です", ["090-1234-5678"]),
    ("CN", "我的手机13812345678", ["13812345678"]),
    ("IN", "mera number 98765 43210 hai", ["98765 43210"]),
    ("BR", "meu celular (11) 98765-4321", ["98765-4321"]),
    ("KR", "연락처 010-1234-5678", ["010-1234-5678"]),
    ("AU", "ring 0412 345 678", ["0412 345 678"]),
    ("RU", "звоните +7 912 345-67-89", ["912 345-67-89"]),
    # e-mail addresses
    ("DE", "schreib an jörg.müller@beispiel.de", ["jörg.müller", "beispiel.de"]),
    ("CN", "邮箱 用户@例子.中国 谢谢", ["用户@例子"]),
    ("RU", "почта: иван@почта.рф", ["иван@"]),
    ("US", 'mail "john doe"@example.com now', ['"john doe"', "example.com"]),
    ("US", "ops-team+orders@shop.example.co.uk", ["ops-team", "shop.example"]),
    # cards, CVV and expiry
    ("US", "card 4111.1111.1111.1111 thanks", ["4111.1111", "1111.1111"]),
    ("US", "card 4111 1111 1111 1111 exp 12/27 cvv 123", ["4111", "12/27", "123"]),
    ("US", "visa 4539148803436467, 09/26, 737", ["4539148803436467", "09/26", "737"]),
    ("GB", "my CVC is 8412", ["8412"]),
    (
        "DE",
        "Karte 5555 5555 5555 4444 gültig bis 03/29, Prüfziffer 321",
        ["5555 4444", "03/29", "321"],
    ),
    ("FR", "cryptogramme 456 et date d'expiration 11/2026", ["456", "11/2026"]),
    ("ES", "código de seguridad: 909", ["909"]),
    ("US", "security code 1234 on the back", ["1234"]),
    # national IDs
    ("US", "SSN 123-45-6789", ["123-45-6789"]),
    ("US", "it's 078-05-1120 on the form", ["078-05-1120"]),
    ("GB", "NI number AB 12 34 56 C", ["12 34 56"]),
    ("ES", "DNI 12345678Z", ["12345678Z"]),
    ("ES", "mi NIE es X1234567L", ["X1234567L"]),
    ("IT", "codice fiscale RSSMRA85T10A562S", ["RSSMRA85T10A562S"]),
    ("CN", "身份证号码11010519491231002X", ["11010519491231002X"]),
    ("BR", "meu CPF 529.982.247-25", ["529.982.247-25"]),
    ("KR", "주민등록번호 900101-1234568", ["900101-1234568"]),
    ("FR", "numéro de sécu 1 85 05 78 006 084 36", ["78 006 084"]),
    ("DE", "Personalausweis Nr. L01X00T47", ["L01X00T47"]),
    ("US", "passport number 533380006", ["533380006"]),
    ("IN", "Aadhaar 2345 6789 0123", ["6789 0123"]),
    # addresses
    ("GB", "send it to 17 harbour road please", ["harbour road"]),
    ("US", "i live at 221b baker street", ["baker street"]),
    ("DE", "Lieferung an Hauptstraße 5, 10115 Berlin", ["Hauptstraße 5"]),
    ("DE", "wohne in der berliner straße 10a", ["straße 10a"]),
    ("NL", "mijn adres is Keizersgracht 123", ["Keizersgracht 123"]),
    ("FR", "livré au 12 rue de la Paix", ["rue de la Paix"]),
    ("FR", "au 5 bis avenue Victor Hugo", ["Victor Hugo"]),
    ("ES", "vivo en Calle Mayor 5", ["Mayor 5"]),
    ("PT", "moro na Rua Augusta, 123", ["Augusta, 123"]),
    ("IT", "abito in Via Roma 10", ["Roma 10"]),
    ("RU", "адрес: ул. Ленина, д. 5", ["Ленина"]),
    ("CN", "送到北京市朝阳区建国路88号", ["建国路88号"]),
    ("JP", "住所は東京都千代田区丸の内1-2-3です", ["丸の内1-2-3"]),
    ("JP", "〒100-0005 東京", ["100-0005"]),
    ("KR", "서울특별시 강남구 테헤란로 123", ["테헤란로 123"]),
    ("GB", "postcode SW1A 1AA", ["SW1A 1AA"]),
]

BENIGN_CASES: list[str] = [
    "it cost $12.50, the fee was £1.99 and the total 24.99 EUR",
    "ordered at 12:30, arrived 13:45, said 7.45pm, maybe 10-15 minutes",
    "on 2024-05-12 and 12/05/2024 at 9.30",
    "2 burgers, 3 fries and 1,250 loyalty points; 35% off; 4.5 stars",
    "order ORD-2024-0512-8831, ticket #5551234567",
    "order 5551234567 and invoice 20240512",
    "order number 4155552671 was late",
    "my order id is 1234567890",
    "tracking 9400111899223100012345 shows nothing",
    "use voucher SAVE20 or code WELCOME2024 next time",
    "voucher code 7F3K-9Q2L-XY88 did not work",
    "I ordered 2 Big Burgers and 1 Spicy Wings Box",
    "it took 45 minutes and 2 hours in total",
    "Bestellung 4711 kam um 19:30 an, 3 Pizzen für 27,50 €",
    "commande n° 20240512 livrée à 20h15, 2 menus à 9,90 €",
    "pedido 88231 llegó frío, 3 tacos por 12,50 €",
    "订单号 202405120831 送达时间 18:45，共 3 份",
    "注文番号 1234-5678 は 19時30分 に届きました",
    "주문 번호 20240512 는 3개",
    "I waited 30 min for order #88231 of 4 items",
    "refund of 15.00 for 2 drinks, rated 3 out of 5",
    "the driver was 20 minutes late on 5 May 2024",
    "card ending 1111, expires soon",
    "I called 3 times between 10:00 and 11:30",
    "sent via the app 2 times, paid via card 3 times",
    "about 3 blocks down the avenue, during 3 hours",
    "offering 2 vouchers, bring 3 napkins, table 12 at 7pm",
    "order #A1234567 and tracking number 1Z999AA10123456784",
    "room 1204, floor 12, code 123456 for the voucher",
]


def _measure() -> tuple[int, int, list[tuple[str, str, str]], list[tuple[str, str]]]:
    found = total = 0
    missed: list[tuple[str, str, str]] = []
    for country, text, secrets in PII_CASES:
        masked, _ = mask_pii(text)
        for secret in secrets:
            total += 1
            if secret in masked:
                missed.append((country, text, secret))
            else:
                found += 1
    false_pos = [(t, m) for t in BENIGN_CASES if (m := mask_pii(t)[0]) != t]
    return found, total, missed, false_pos


def test_table_size_and_spread() -> None:
    assert len(PII_CASES) + len(BENIGN_CASES) >= 60 and len(PII_CASES) >= 60
    assert len({c for c, _, _ in PII_CASES}) >= 8
    scripts = {"latin": "a", "cyrillic": "д", "han": "号", "kana": "す", "hangul": "로"}
    assert all(any(ch in t for _, t, _ in PII_CASES) for ch in scripts.values())


def test_recall_at_least_95_percent_and_no_benign_number_masked() -> None:
    found, total, missed, false_pos = _measure()
    recall = found / total
    print(
        f"\nPII table: {len(PII_CASES)} PII cases, {total} secrets, "
        f"{len({c for c, _, _ in PII_CASES})} countries; recall {recall:.1%} "
        f"({found}/{total}); benign cases {len(BENIGN_CASES)}, masked {len(false_pos)}"
    )
    for m in missed:
        print("  missed:", m)
    assert recall >= 0.95, missed
    assert not false_pos, false_pos


@pytest.mark.parametrize("text", BENIGN_CASES)
def test_benign_text_unchanged(text: str) -> None:
    assert mask_pii(text) == (text, {})
