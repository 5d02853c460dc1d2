"""The verb lexicon (vid2skill/ingest/lexicon.py, conf/labels/lexicon.yaml): label texts -> skills."""

import pytest
from omegaconf import OmegaConf

from tests.helpers import make_cfg
from vid2skill.errors import ConfigError
from vid2skill.ingest.lexicon import LabelError, Lexicon, default_lexicon, lexicon_of

TABLE = [  # (text, source, skills)
    ("open", "csv", ["open"]),
    ("Opening", "csv", ["open"]),
    ("opened", "csv", ["open"]),
    ("opens", "csv", ["open"]),
    ("pull out", "csv", ["open"]),
    ("pull the drawer open", "csv", ["open"]),
    ("Pulling [something] out of [something]", "ssv2", ["open"]),
    ("close", "csv", ["close"]),
    ("shutting", "csv", ["close"]),
    ("push in", "csv", ["close"]),
    ("push closed", "csv", ["close"]),
    ("take", "epic", ["pick"]),
    ("pick up", "csv", ["pick"]),
    ("grabbed", "csv", ["pick"]),
    ("lifting", "csv", ["pick"]),
    ("taking", "csv", ["pick"]),
    ("took", "csv", ["pick"]),
    ("put", "csv", ["place"]),
    ("placed", "csv", ["place"]),
    ("put-down", "epic", ["place"]),
    ("Put down", "csv", ["place"]),
    ("Putting [something] into [something]", "ssv2", ["place"]),
    ("pour", "csv", ["pour"]),
    ("emptied", "csv", ["pour"]),
    ("stirring", "csv", ["stir"]),
    ("mixes", "csv", ["stir"]),
    ("cut", "csv", ["cut"]),
    ("slices", "csv", ["cut"]),
    ("chopped", "csv", ["cut"]),
    ("cutting", "csv", ["cut"]),
    # skill names as they are, and ordered multi-skill labels
    ("slide_open;slide_close", "csv", ["slide_open", "slide_close"]),
    ("Hinge-Close", "csv", ["hinge_close"]),
    ("pick;pour;place", "csv", ["pick", "pour", "place"]),
    ("pick up the cup and pour", "csv", ["pick", "pour"]),
    # file names: tokens on _ - . and spaces, the tightest longest phrase first
    ("whirl_drawer_open_close", "filename", ["open", "close"]),
    ("epicwall_cutlery_drawer_slide_open_close", "filename", ["slide_open", "close"]),
    ("aina_toy_pick_place.mp4", "filename", ["pick", "place"]),
    # nothing usable, an explicit none, unknown verbs as candidates (never a known skill)
    ("dexretarget_hand_gestures", "filename", None),
    ("", "csv", None),
    ("none", "csv", []),
    ("None ; ", "csv", []),
    ("turn-on", "epic", ["novel:turn_on"]),
    ("wipe whiteboard", "csv", ["novel:wipe_whiteboard"]),
    ("Pushing [something] so that it falls off the table", "ssv2", ["novel:push"]),
    ("Pretending to pick [something] up", "ssv2", ["novel:pretending"]),
]


@pytest.mark.parametrize("text,source,skills", TABLE)
def test_the_lexicon_maps_label_texts_to_skills(text, source, skills):
    assert default_lexicon().map(text, source) == skills


def test_open_and_close_are_decided_by_the_arc():
    lex = default_lexicon()
    assert (
        lex.resolve_by_arc("open", 0.01) == "slide_open" and lex.resolve_by_arc("open", 0.2) == "hinge_open"
    )
    assert (
        lex.resolve_by_arc("close", 0.069) == "slide_close"
        and lex.resolve_by_arc("close", 0.07) == "hinge_close"
    )
    assert lex.resolve_by_arc("pick", 0.2) == "pick" and lex.resolve_by_arc("novel:wave", 0.2) == "novel:wave"


@pytest.mark.parametrize("text", ["öffnen", "開ける", "pick\x00"])
def test_unreadable_labels_raise_with_the_fix(text):
    with pytest.raises(LabelError, match="lexicon|plain text"):
        default_lexicon().map(text, "csv")


def test_the_lexicon_comes_from_config_and_rejects_unknown_targets():
    cfg = make_cfg(["labels.verbs.pick=[take,nab]"])
    lex = lexicon_of(cfg.cluster)  # cluster.lexicon interpolates ${labels}
    assert lex.map("nabbed", "csv") == ["pick"] and lex.map("grab", "csv") == ["novel:grab"]
    with pytest.raises(ConfigError, match="labels.verbs.fly"):
        Lexicon.from_config({**OmegaConf.to_container(cfg.labels), "verbs": {"fly": ["fly"]}})
