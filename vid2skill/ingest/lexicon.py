"""The verb lexicon: weak label texts (a labels.csv cell, an EPIC verb, an SSv2 template, a folder's or
file's name, a URL's title) -> skills, as ``conf/labels/lexicon.yaml`` says.

A text maps to its skills in order (``"pick up the cup and pour"`` -> ``[pick, pour]``), to ``[]`` when it
says the clip shows no skill (``none``), or to None when it says nothing this source may use. Verbs of
a family (``open``, ``close``) map to the family's name and are decided into ``slide_*`` or ``hinge_*`` by
the manipulation's arc once the motion is known (:func:`resolve_by_arc`). A verb the lexicon does not
know becomes the candidate skill ``novel:<verb>``, never a guess among the known skills.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from vid2skill.errors import ConfigError, Vid2SkillError

# Irregular forms that suffix rules cannot undo.
IRREGULAR = {
    "took": "take",
    "taken": "take",
    "takes": "take",
    "emptied": "empty",
    "empties": "empty",
    "lifted": "lift",
}
# Characters a label may hold besides letters, digits and spaces; anything else is an odd character.
_PLAIN = re.compile(r"^[A-Za-z0-9 _\-;,.'/()&\[\]:+]*$")


class LabelError(Vid2SkillError):
    """A label text that cannot be read (a language or characters the lexicon cannot match)."""


def normalise(text: str) -> list[str]:
    """Lower-case words of ``text``: Unicode folded (NFKC), ``_ - . , / ; :`` and brackets as spaces,
    other punctuation dropped. ``"Pulling [something] out_of-it."`` ->
    ``[pulling, something, out, of, it]``."""
    text = unicodedata.normalize("NFKC", text).lower()
    text = re.sub(r"[_\-.,/;:()\[\]{}+&]", " ", text)
    return re.sub(r"[^\w\s]", "", text).split()


def lemma(word: str, vocab: frozenset[str]) -> str:
    """``word`` with a simple inflection undone when that gives a word of ``vocab`` (opening, opened,
    opens -> open; cutting -> cut; taking -> take; emptied -> empty), else ``word`` unchanged (no
    guessing at the stems of words the lexicon does not know)."""
    if word in vocab:
        return word
    if word in IRREGULAR:
        return IRREGULAR[word]
    candidates = []
    for suffix in ("ing", "ed", "es", "s"):
        if word.endswith(suffix) and len(word) > len(suffix) + 1:
            stem = word[: -len(suffix)]
            candidates += [stem, stem + "e"]
            if len(stem) > 2 and stem[-1] == stem[-2]:  # cutting, chopped, shutting
                candidates.append(stem[:-1])
            if stem.endswith("i"):  # emptied, empties
                candidates.append(stem[:-1] + "y")
    return next((c for c in candidates if c in vocab), word)


@dataclass(frozen=True)
class Lexicon:
    """Phrases (tuples of words) -> skill or family, longest first, and how each source is read."""

    phrases: tuple[tuple[tuple[str, ...], str], ...]
    vocab: frozenset[str]
    skills: frozenset[str]
    by_arc: dict
    hinge_arc: float
    none: frozenset[tuple[str, ...]]
    not_done: frozenset[str]
    ignore_words: frozenset[str]
    novel_prefix: str
    max_gap_words: int
    sources: dict

    @classmethod
    def from_config(cls, cfg) -> Lexicon:
        """From the ``labels`` config group (a DictConfig or a dict)."""
        from omegaconf import OmegaConf

        c = OmegaConf.to_container(cfg, resolve=True) if OmegaConf.is_config(cfg) else dict(cfg)
        families = set(c["by_arc"])
        skills = set(c["skills"])
        table: dict[tuple[str, ...], str] = {}
        for name in skills:  # a skill's own name ("slide_open", "slide open") names it
            table[tuple(normalise(name))] = name
        for target, phrases in c["verbs"].items():
            if target not in skills and target not in families:
                raise ConfigError(
                    f"labels.verbs.{target}: not a skill in labels.skills nor a family in labels.by_arc"
                )
            for p in phrases:
                words = tuple(normalise(str(p)))
                if not words:
                    raise ConfigError(f"labels.verbs.{target}: the phrase {p!r} has no words")
                table.setdefault(words, target)
        for fam, pair in c["by_arc"].items():
            if len(pair) != 2:
                raise ConfigError(f"labels.by_arc.{fam}: give [skill below hinge_arc, skill at or above it]")
        vocab = frozenset(w for words in table for w in words)
        phrases = tuple(sorted(table.items(), key=lambda kv: -len(kv[0])))
        return cls(
            phrases,
            vocab,
            frozenset(skills),
            dict(c["by_arc"]),
            float(c["hinge_arc"]),
            frozenset(tuple(normalise(str(n))) for n in c["none"]),
            frozenset(w for n in c["not_done"] for w in normalise(str(n))),
            frozenset(c["ignore_words"]),
            str(c["novel_prefix"]),
            int(c["max_gap_words"]),
            dict(c["sources"]),
        )

    def source_rule(self, source: str, key: str, default=None):
        return (self.sources.get(source) or {}).get(key, default)

    def find(self, words: list[str]) -> list[str]:
        """Skills (or families) named in ``words``, in order, longest phrase first at each word."""
        lem = [lemma(w, self.vocab) for w in words]
        out, i = [], 0
        while i < len(lem):
            # The longest phrase at this word, the tightest of equally long ones ("slide open close":
            # "slide open", not "slide close" across the gap).
            hits = [
                (len(p), -end, end, target)
                for p, target in self.phrases
                if (end := self._match(lem, i, p)) is not None
            ]
            if hits:
                *_, end, target = max(hits)
                out.append(target)
                i = end
            else:
                i += 1
        return out

    def _match(self, lem: list[str], i: int, phrase: tuple[str, ...]) -> int | None:
        """The index after ``phrase`` matched at ``lem[i]`` (gaps of up to ``max_gap_words``), or None."""
        if lem[i] != phrase[0]:
            return None
        j = i + 1
        for w in phrase[1:]:
            window = lem[j : j + self.max_gap_words + 1]
            if w not in window:
                return None
            j += window.index(w) + 1
        return j

    def map(self, text: str | None, source: str = "csv") -> list[str] | None:
        """The skills a text names, in order (``;`` separates parts; each part may name several).

        ``[]``: the text says the clip shows no skill. None: nothing usable (empty text, or no known
        phrase where the source's rule is ``unknown: ignore``). A part naming no known phrase becomes
        ``novel:<verb>`` where the rule is ``unknown: novel``; such a part with characters the lexicon
        cannot read (another script, symbols) raises :class:`LabelError`.
        """
        if text is None or not str(text).strip():
            return None
        text = str(text)
        if any(unicodedata.category(ch) in ("Cc", "Cf", "Co", "Cs") for ch in text):
            raise LabelError(f"label {text!r} holds control characters; retype it as plain text")
        unknown = self.source_rule(source, "unknown", "novel")
        skills, said_none = [], False
        for part in text.split(";"):
            words = normalise(part)
            if not words:
                continue
            if tuple(words) in self.none:
                said_none = True
                continue
            # "Pretending to pick something up" shows no pick: such a part is read as its own (novel) verb.
            found = [] if words[0] in self.not_done else self.find(words)
            if found:
                skills += found
            elif unknown == "novel":
                if not _PLAIN.match(part.strip()):
                    raise LabelError(
                        f"label {part.strip()!r} is not in the lexicon and is not plain English text; "
                        "write a skill name (pick, slide_open, ...) or an English verb, or add it to "
                        "labels.verbs"
                    )
                skills.append(self.novel_name(words, int(self.source_rule(source, "novel_words", 2))))
        if skills:
            return skills
        return [] if said_none else None

    def novel_name(self, words: list[str], n_words: int) -> str:
        """``novel:<verb>``: the first ``n_words`` content words, inflections undone where the lexicon can."""
        content = [
            lemma(w, self.vocab) for w in words if w not in self.ignore_words and not w.isdigit()
        ] or words
        return self.novel_prefix + "_".join(content[: max(1, n_words)])

    def is_novel(self, skill: str) -> bool:
        return skill.startswith(self.novel_prefix)

    def resolve_by_arc(self, skill: str, arc: float) -> str:
        """A family's member for a motion's arc descriptor (``open`` with arc 0.02 -> ``slide_open``);
        other skills as they are."""
        pair = self.by_arc.get(skill)
        if not pair:
            return skill
        return pair[1] if arc >= self.hinge_arc else pair[0]


@lru_cache(maxsize=1)
def default_lexicon() -> Lexicon:
    """The shipped ``labels`` group (conf/labels/lexicon.yaml), for callers handed no ``labels`` config."""
    from vid2skill.config import compose

    return Lexicon.from_config(compose([]).labels)


def lexicon_of(cfg) -> Lexicon:
    """The lexicon in ``cfg.lexicon`` (a stage's config section interpolating ``${labels}``)."""
    return Lexicon.from_config(cfg.lexicon)
