"""Receipt bytes through python-escpos' Dummy: layout, code page, QR, cut, bad input."""

from __future__ import annotations

import re

import pytest
from sample_receipts import ticket

from drivers.errors import DeviceError
from drivers.printer.document import DocumentError
from drivers.printer.escpos_printer import EscposPrinter
from drivers.printer.factory import open_printer
from drivers.printer.preview import preview

ESC, GS = b"\x1b", b"\x1d"


def dummy(profile: str = "TM-T88III", columns: int = 42, **kwargs) -> EscposPrinter:
    return open_printer("dummy", profile=profile, columns=columns, **kwargs)


def printed(printer: EscposPrinter, document: dict) -> bytes:
    printer.print_document(document)
    out = printer.dummy.output
    printer.dummy.clear()
    return out


def test_receipt_starts_with_reset_and_cp858_and_encodes_accents_and_euro():
    out = printed(dummy(), ticket(1))
    assert out.startswith(ESC + b"@" + ESC + b"t\x13")  # reset, code page 19 = CP858
    assert "Crème brûlée 0".encode("cp858") in out
    assert "Bakkerij Één".encode("cp858") in out
    assert "€ 1,95".encode("cp858") in out and b"\xd5" in out
    assert "€".encode() not in out


def test_explicit_code_page_cp1252():
    out = printed(dummy(code_page="cp1252"), ticket(1))
    assert out.startswith(ESC + b"@" + ESC + b"t\x10")
    assert "Crème € 1,95".replace("Crème ", "").encode("cp1252") in out
    assert b"\x80" in out  # the euro sign in cp1252


def test_code_page_the_profile_lacks_is_a_clear_error():
    with pytest.raises(DeviceError, match="CP1251.*not offered"):
        dummy(code_page="CP1251")


def test_unknown_profile_is_a_clear_error():
    with pytest.raises(DeviceError, match="profile 'NoSuchPrinter'"):
        dummy(profile="NoSuchPrinter")


def test_layout_at_columns_with_rule_alignment_bold_double_qr_and_cut():
    for columns in (32, 42, 48):
        out = printed(dummy(columns=columns), ticket(2, columns))
        assert b"-" * columns + b"\n" in out and b"-" * (columns + 1) not in out
        assert ESC + b"a\x01" in out and ESC + b"a\x02" in out  # centre and right
        assert ESC + b"E\x01" in out and ESC + b"E\x00" in out  # bold on and off
        assert ESC + b"!0" in out  # double width + height for the shop name
        data = b"https://kassa.example/r/dev-till-1/42"
        assert GS + b"(k" + bytes([len(data) + 3, 0]) + b"1P0" + data in out  # native QR
        assert out.endswith(GS + b"V\x00")  # full cut, last
        for line in out.split(b"\n"):
            if GS not in line:
                assert len(line.rsplit(ESC, 1)[-1]) <= columns + 2


def test_styles_are_only_sent_when_they_change():
    doc = {"columns": 42, "blocks": [{"kind": "text", "text": f"line {i}"} for i in range(30)]}
    out = printed(dummy(), doc)
    assert out.count(ESC + b"a") == 0 and out.count(ESC + b"E") == 0
    assert out.count(b"\n") == 30


def test_too_long_line_wraps_instead_of_losing_text():
    doc = {"columns": 42, "blocks": [{"kind": "text", "text": "A" * 50 + " end"}]}
    out = printed(dummy(), doc)
    assert b"A" * 42 + b"\n" + b"A" * 8 + b" end\n" in out


def test_document_wider_than_the_paper_is_laid_out_at_the_paper_width():
    doc = ticket(1, 48)
    out = printed(dummy(columns=32), doc)
    assert b"-" * 32 + b"\n" in out and b"-" * 33 not in out


def test_unprintable_characters_are_replaced_not_sent_and_never_crash():
    nasty = "Pizza\x1b@\x1dV\x00 中文 ő \u200b 🍕 \ud800"
    doc = {"columns": 42, "blocks": [{"kind": "text", "text": nasty}, {"kind": "cut"}]}
    out = printed(dummy(), doc)
    body = out.split(b"\n")[0]
    assert body.endswith(b"Pizza?@?V? ?? o ? ? ?")
    assert ESC + b"@" not in out[2:].split(b"\n")[0]  # no smuggled reset
    assert "中".encode("gb18030") not in out


def test_profile_without_native_qr_renders_an_image():
    out = printed(dummy(profile="ZJ-5870", columns=32), ticket(1, 32))
    assert GS + b"(k" not in out
    assert GS + b"v0" in out  # raster image of the QR


@pytest.mark.parametrize("bad, reason", [
    ({"blocks": "x"}, "'blocks' list"),
    ({"blocks": [{"kind": "text", "text": 5}]}, "block 0: text must be a string"),
    ({"blocks": [{"kind": "rule"}, {"kind": "poem"}]}, "block 1: unknown kind 'poem'"),
    ({"blocks": [{"kind": "text", "text": "x", "align": "middle"}]}, "align 'middle'"),
    ({"blocks": [{"kind": "feed", "lines": 999}]}, "feed lines"),
    ({"blocks": [{"kind": "qr", "data": "x" * 5000}]}, "QR data is longer"),
])
def test_malformed_document_is_refused_before_a_byte_is_sent(bad, reason):
    printer = dummy()
    with pytest.raises(DocumentError, match=reason):
        printer.print_document(bad)
    assert printer.dummy.output == b""
    assert printer.state == "ready"


def test_preview_matches_the_layout():
    text = preview(ticket(2), 42)
    lines = text.splitlines()
    assert lines[0].strip() == "B a k k e r i j   É é n"
    assert lines[2] == "-" * 42
    assert lines[3] == "Crème brûlée 0" + "€ 1,95".rjust(28)
    assert any("[QR https://kassa.example/r/dev-till-1/42]" in line for line in lines)
    assert "cut" in lines[-1]


def test_drawer_kick_goes_through_send_raw():
    printer = dummy()
    printer.send_raw(ESC + b"p\x00\x32\x32")
    assert printer.dummy.output == ESC + b"p\x00\x32\x32"


def decode_pages(data: bytes, profile: str) -> str:
    """Reads text the way the printer does: ESC t n switches the code page (ESC M n, the
    font select, prints nothing)."""
    from escpos.capabilities import get_profile
    from escpos.codepages import CodePages

    codecs = {int(num): CodePages.get_encoding(name).get("python_encode")
              for name, num in get_profile(profile).get_code_pages().items() if name != "Unknown"}
    data = re.sub(rb"\x1bM[\x00-\x04]", b"", data)
    parts = re.split(rb"\x1bt(.)", data, flags=re.S)
    text, codec = parts[0].decode("ascii"), "ascii"
    for page, chunk in zip(parts[1::2], parts[2::2], strict=True):
        codec = codecs[page[0]]
        text += chunk.decode(codec)
    return text


def test_line_outside_the_chosen_page_switches_pages_and_later_lines_stay_right():
    printer = dummy(profile="default")
    doc = {"columns": 42, "blocks": [{"kind": "text", "text": "Łódź"},
                                     {"kind": "text", "text": "Café €"},
                                     {"kind": "text", "text": "Één"}]}
    out = printed(printer, doc)
    assert out.startswith(ESC + b"@" + ESC + b"t\x13")  # CP858 first
    assert out.count(ESC + b"t") >= 2  # switched for the Polish letters
    assert decode_pages(out[2:], "default") == "Łódź\nCafé €\nÉén\n"


# The font that gives the configured columns: (profile, columns) -> ESC M number.
FONTS = {("TM-T88III", 32): 0, ("TM-T88III", 42): 0, ("TM-T88III", 48): 1,  # A 42, B 56
         ("TM-T20II", 32): 0, ("TM-T20II", 42): 0, ("TM-T20II", 48): 0}  # A 48, B 64


@pytest.mark.parametrize("profile, columns", sorted(FONTS))
def test_selects_the_font_that_holds_the_columns_and_no_line_is_wider(profile, columns):
    from escpos_lines import read_paper

    out = printed(dummy(profile=profile, columns=columns), ticket(3, columns))
    font = FONTS[profile, columns]
    assert out.startswith(ESC + b"@" + ESC + b"t\x13" + ESC + b"M" + bytes([font]))
    paper = read_paper(out, profile)
    assert set(paper.font_selects) == {font}  # selected again after every ESC ! size change
    text_lines = [line for line in paper.lines if line.text]
    assert all(line.fonts == {font} for line in text_lines)
    assert max(len(line.text) for line in text_lines) == columns  # the rule and the item lines
    assert paper.widest().width <= 1, paper.widest()
    double = next(line for line in text_lines if line.double)
    assert double.text == "Bakkerij \u00c9\u00e9n" and double.width <= 1


def test_48_columns_on_a_tm_t88iii_print_in_font_b_and_fit():
    from escpos_lines import read_paper

    printer = dummy(profile="TM-T88III", columns=48)
    assert (printer.font.number, printer.font.name, printer.font.columns) == (1, "Font B", 56)
    paper = read_paper(printed(printer, ticket(3, 48)), "TM-T88III")
    assert any(len(line.text) == 48 for line in paper.lines)
    assert all(line.width <= 1 for line in paper.lines)


@pytest.mark.parametrize("profile, columns, fits", [
    ("ZJ-5870", 42, "columns = 32"), ("ZJ-5870", 48, "columns = 32"),
    ("NT-5890K", 48, "columns = 32 or 42"),
])
def test_columns_no_font_of_the_profile_holds_are_refused_at_set_up(profile, columns, fits,
                                                                    tmp_path):
    from drivers.errors import SettingRejected
    from drivers.printer.fonts import ColumnsDoNotFit

    for kind in ("dummy", "sim", "file"):
        with pytest.raises(ColumnsDoNotFit) as caught:
            open_printer(kind, profile=profile, columns=columns, var_dir=tmp_path / "var",
                         device=str(tmp_path / "lp0"))
        error = caught.value
        assert isinstance(error, SettingRejected) and error.setting == "printer.columns"
        assert (error.profile, error.columns) == (profile, columns)
        assert f"{profile!r} cannot print {columns} columns" in str(error) and fits in str(error)
    assert not (tmp_path / "var").exists()  # refused before the simulator made its directory


def test_58mm_profile_prints_42_columns_in_its_font_b():
    from escpos_lines import read_paper

    out = printed(dummy(profile="NT-5890K", columns=42), ticket(2, 42))
    paper = read_paper(out, "NT-5890K")
    assert set(paper.font_selects) == {1}
    assert all(line.width <= 1 for line in paper.lines)


def test_bold_survives_a_size_change():
    """escpos' ESC ! n (size) also clears emphasis: a bold line after a bold double line is
    bold again, and the font is selected again."""
    doc = {"columns": 48, "blocks": [
        {"kind": "text", "text": "Shop", "bold": True, "double": True},
        {"kind": "text", "text": "TOTAL", "bold": True},
    ]}
    out = printed(dummy(columns=48), doc)
    after = out.split(b"Shop\n", 1)[1]
    assert after.startswith(ESC + b"!\x00" + ESC + b"!\x00" + ESC + b"!\x00" + ESC + b"E\x01"
                            + ESC + b"M\x01")


CAPABILITIES_CHILD = """
import json, os, sys
from pathlib import Path
import drivers.printer.sim  # imports escpos through the package that prepares its pickle
import escpos.capabilities as caps
source = Path(caps.__file__).with_name("capabilities.json")
assert caps.CAPABILITIES == json.loads(source.read_text())
print("full_load", caps.full_load, "dir", os.environ.get("ESCPOS_CAPABILITIES_PICKLE_DIR"))
"""


def test_escpos_profiles_come_from_the_kept_pickle_not_a_yaml_parse(tmp_path):
    """python-escpos parses its profile database with PyYAML unless its pickle exists; the
    printer package writes that pickle once (same data as the JSON) where escpos looks."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]

    def child(pickle_dir: Path) -> str:
        env = {**os.environ, "PYTHONPATH": str(root), "ESCPOS_CAPABILITIES_PICKLE_DIR": str(pickle_dir)}
        proc = subprocess.run([sys.executable, "-c", CAPABILITIES_CHILD], cwd=root, env=env,
                              capture_output=True, text=True, timeout=60)
        assert proc.returncode == 0, proc.stderr[-2000:]
        return proc.stdout.strip()

    kept = tmp_path / "escpos"
    assert child(kept) == f"full_load False dir {kept}"  # written by us, read by escpos
    assert len(list(kept.glob("*.capabilities.pickle"))) == 1 and not list(kept.glob("*.tmp"))
    assert child(kept) == f"full_load False dir {kept}"  # the next start reads it again
    blocked = tmp_path / "file"
    blocked.write_text("not a directory")
    assert child(blocked / "escpos").startswith("full_load True dir None")  # escpos' own way
