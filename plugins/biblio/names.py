"""Author names as listings print them ("Zoë van der Berg") split into CSL's name parts:
``given``, ``dropping-particle``, ``non-dropping-particle``, ``family``, ``suffix``, or a
``literal`` for a name that cannot be split. BibTeX and RIS write the same parts.

The rules (BibTeX's own, with CSL's particle kinds):

* "Family, Given" and "Family, Suffix, Given" are taken as written; "Given Family, Jr." too.
* A trailing generational suffix ("Jr.", "Sr.", "II" ... "VI") is the ``suffix``.
* Otherwise the first word is given; the lowercase words between given and family ("van der",
  "de", "von", "bin", "da") are the particles; the last word is the family name (hyphenated
  names are one word: "Dupont-Aignan"). Particles are ``non-dropping-particle``: kept with the
  family name wherever it shows ("van der Berg 2024"), since which particles a culture drops
  cannot be told from the name. A lowercase particle followed by a capitalised one ("Jean de La
  Fontaine") is the CSL specification's own case: "de" dropping, "La" non-dropping.
* A single word ("Madonna"), a name with "and" in it, and a name in CJK script without a
  space ("王小明") are ``literal``; a CJK-script name with a space is family first
  ("王 小明": family 王).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

SUFFIXES = frozenset({"jr", "jr.", "jnr", "sr", "sr.", "snr", "ii", "iii", "iv", "v", "vi"})
# Capitalised particles that may follow a lowercase one ("de La Fontaine", "van Der Merwe").
CAPITAL_PARTICLES = frozenset(
    {"La", "Le", "Les", "Du", "Des", "De", "Di", "Da", "Del", "Della", "Van", "Von", "Der"}
)


@dataclass(frozen=True)
class Name:
    family: str | None = None
    given: str | None = None
    dropping_particle: str | None = None
    non_dropping_particle: str | None = None
    suffix: str | None = None
    literal: str | None = None  # a name that cannot be split: the whole of it

    def csl(self) -> dict[str, str]:
        if self.literal is not None:
            return {"literal": self.literal}
        parts = {
            "family": self.family,
            "given": self.given,
            "dropping-particle": self.dropping_particle,
            "non-dropping-particle": self.non_dropping_particle,
            "suffix": self.suffix,
        }
        return {k: v for k, v in parts.items() if v}

    def family_with_particles(self) -> str:
        """'van der Berg', 'de La Fontaine': the family name as BibTeX and RIS write it."""
        if self.literal is not None:
            return self.literal
        words = (self.dropping_particle, self.non_dropping_particle, self.family)
        return " ".join(w for w in words if w)


def _is_suffix(word: str) -> bool:
    return word.casefold() in SUFFIXES


def _is_cjk(text: str) -> bool:
    return any(unicodedata.name(c, "").startswith(("CJK", "HANGUL", "HIRAGANA", "KATAKANA"))
               for c in text)  # fmt: skip


def _lowercase_word(word: str) -> bool:
    return word[:1].isalpha() and word[:1].islower()


def parse_name(text: str) -> Name:
    text = re.sub(r"\s+", " ", text).strip()
    if re.search(r"\band\b", text):  # "Anders and Co": not a person's name to split
        return Name(literal=text)
    parts = [p.strip() for p in text.split(",")]
    if len(parts) == 2 and _is_suffix(parts[1]) and " " in parts[0]:
        return _replace_suffix(_space_form(parts[0]), parts[1])  # "Given Family, Jr."
    if len(parts) == 2 and all(parts):
        return _comma_form(parts[0], parts[1], None)
    if len(parts) == 3 and all(parts):
        return _comma_form(parts[0], parts[2], parts[1])
    if len(parts) != 1:
        return Name(literal=text)
    return _space_form(text)


def _replace_suffix(name: Name, suffix: str) -> Name:
    return Name(name.family, name.given, name.dropping_particle, name.non_dropping_particle,
                suffix, name.literal)  # fmt: skip


def _comma_form(family_part: str, given: str, suffix: str | None) -> Name:
    words = family_part.split()
    particles = []
    while len(words) > 1 and _lowercase_word(words[0]):
        particles.append(words.pop(0))
    return Name(" ".join(words), given, None, " ".join(particles) or None, suffix)


def _space_form(text: str) -> Name:
    words = text.split(" ")
    suffix = None
    if len(words) > 2 and _is_suffix(words[-1]):
        suffix = words.pop()
    if len(words) == 1:
        return Name(literal=words[0]) if suffix is None else Name(words[0], suffix=suffix)
    if _is_cjk(text):
        return Name(words[0], " ".join(words[1:]), suffix=suffix)
    lower = [i for i in range(1, len(words) - 1) if _lowercase_word(words[i])]
    if not lower:
        return Name(words[-1], " ".join(words[:-1]), suffix=suffix)
    first, last = lower[0], lower[-1]
    given, particles, family = words[:first], words[first : last + 1], words[last + 1 :]
    capitals = []
    while len(family) > 1 and family[0] in CAPITAL_PARTICLES:
        capitals.append(family.pop(0))
    if capitals:  # "de La Fontaine": the lowercase ones drop, the capitalised one stays
        return Name(" ".join(family), " ".join(given), " ".join(particles),
                    " ".join(capitals), suffix)  # fmt: skip
    return Name(" ".join(family), " ".join(given), None, " ".join(particles), suffix)
