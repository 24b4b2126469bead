"""Direction controls are refused in titles and names; right-to-left scripts are not."""
import pytest

from helpdesk.text import has_bidi_controls

CONTROLS = {"LRE": "\u202a", "RLE": "\u202b", "PDF": "\u202c", "LRO": "\u202d", "RLO": "\u202e",
            "LRI": "\u2066", "RLI": "\u2067", "FSI": "\u2068", "PDI": "\u2069", "LRM": "\u200e",
            "RLM": "\u200f", "ALM": "\u061c"}


@pytest.mark.parametrize("control", CONTROLS.values(), ids=CONTROLS.keys())
def test_every_direction_control_is_found_anywhere_in_a_text(control):
    assert has_bidi_controls(f"Invoice{control}fdp.exe")


@pytest.mark.parametrize("text", ["Site down", "Société Générale", "شركة المتجر", "חנות ראשית",
                                  "Zoë 👩\u200d💻", "日本語のタイトル"],
                         ids=["ascii", "accents", "arabic", "hebrew", "emoji-joiner", "japanese"])
def test_letters_of_any_script_are_no_direction_controls(text):
    assert not has_bidi_controls(text)
