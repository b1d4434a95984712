"""lgsec.textsafe: host text printed on a terminal can neither control it nor forge a line."""

from lgsec.textsafe import for_terminal


def test_escape_sequences_and_line_breaks_are_shown_not_obeyed():
    shown = for_terminal("sw01\x1b[2J\x1b[H== sw01 ==\n  合格: 46\u2028total: pass 46\r")
    assert "\x1b" not in shown and "\n" not in shown and "\r" not in shown and "\u2028" not in shown
    assert shown.startswith("sw01\\x1b[2J") and "\\x0a" in shown and "\\u2028" in shown


def test_japanese_text_and_plain_ascii_are_unchanged():
    assert for_terminal("総務課 PC-01 (重要性Ⅱ)") == "総務課 PC-01 (重要性Ⅱ)"


def test_bidi_override_and_lone_surrogate_are_escaped():
    assert for_terminal("pass\u202eliaf") == "pass\\u202eliaf"
    assert for_terminal("x\ud800y") == "x\\ud800y"
