"""The merge rules of `rules` rendered in a SQL dialect: each dialect (plugins/sqlite/merge.py,
plugins/postgres/merge.py) gives a template per rule, these functions fill them in per column.
The led fields' templates (`led_templates`) are the same in both dialects but for the test of
an empty value."""

from __future__ import annotations

from .rules import ARXIV, ARXIV_SOURCE_PREFIX, HF, LEAD_BITS, LEADS, RULES, Absorb, Upsert

# A led field's stored value stays (`rules._lead_keeps`): it came from the leading family, and
# the newer value did not, or (arXiv's fields) is of an older version. Null versions compare
# as unknown: never older.
_KEEPS = "((coalesce({old_lead}, 0) & {bit}) <> 0 AND ((coalesce({new_lead}, 0) & {bit}) = 0%s))"
_OLDER = " OR {new_version} < {old_version}"


def led_templates(empty) -> tuple[dict[Upsert, str], dict[Absorb, str]]:
    """The led fields' and `from_lead`'s templates; `empty(v)` is the dialect's test of an
    empty value (null, ``[]``, ``{}``) of the template name `v` (its braces doubled)."""
    keep_old = f"CASE WHEN {empty('{new}')} OR %s THEN {{old}} ELSE {{new}} END"
    upsert = {
        Upsert.LED_BY_ARXIV: keep_old % (_KEEPS % _OLDER),
        Upsert.LED_BY_HF: keep_old % (_KEEPS % ""),
        Upsert.BITS_OR: "(coalesce({old}, 0) | coalesce({new}, 0))",
    }
    absorb = {
        Absorb.LED: (
            f"CASE WHEN {empty('{kept}')} OR ((coalesce({{gone_lead}}, 0) & {{bit}}) <> 0 AND "
            "(coalesce({kept_lead}, 0) & {bit}) = 0) THEN {gone} ELSE {kept} END"
        ),
        Absorb.BITS_OR: "(coalesce({kept}, 0) | coalesce({gone}, 0))",
    }
    return upsert, absorb


def render_upsert_set(templates: dict[Upsert, str], table: str, new: str) -> str:
    """``col = expr, ...`` of an upsert: each rule's dialect template with ``{old}``/``{new}``
    (the stored and the incoming value), ``{bit}`` (the column's `LEAD_BITS`) and the other
    columns a rule reads (``{new_published}``, ``{old_lead}``, ``{new_version}``, ...) filled
    in. Every expression reads the row as stored before the upsert."""
    return _render_set(
        templates, 0, Upsert.KEEP, lambda c: {"old": f"{table}.{c}", "new": f"{new}.{c}"},
        new_published=f"{new}.published", old_lead=f"{table}.from_lead",
        new_lead=f"{new}.from_lead", old_version=f"{table}.arxiv_version",
        new_version=f"{new}.arxiv_version",
    )  # fmt: skip


def render_absorb_set(templates: dict[Absorb, str], table: str, gone: str) -> str:
    """``col = expr, ...`` that merges row alias `gone` into the row of `table` (rule 2)."""
    return _render_set(
        templates, 1, Absorb.KEEP, lambda c: {"kept": f"{table}.{c}", "gone": f"{gone}.{c}"},
        kept_published=f"{table}.published", kept_lead=f"{table}.from_lead",
        gone_lead=f"{gone}.from_lead",
    )  # fmt: skip


def render_lead_backfill(empty) -> str:
    """The `from_lead` of a row stored before the column existed, in SQL: its values taken as
    from its latest sighting's family (`empty(v)`: as for `led_templates`)."""
    families = {
        f: " + ".join(
            f"(CASE WHEN {empty(c).format()} THEN 0 ELSE {LEAD_BITS[c]} END)"
            for c, led in LEADS.items()
            if led == f
        )
        for f in (ARXIV, HF)
    }
    return (
        f"CASE WHEN source LIKE '{ARXIV_SOURCE_PREFIX}%' THEN {families[ARXIV]} "
        f"ELSE {families[HF]} END"
    )


def _render_set(templates, which: int, keep, names, **shared: str) -> str:
    """The SET list of one kind of rule (`which`: 0 upsert, 1 absorb) for every column whose
    rule is not `keep`; `names(column)` gives the template's per-column names."""
    return ", ".join(
        f"{c} = " + templates[rules[which]].format(**names(c), bit=LEAD_BITS.get(c, 0), **shared)
        for c, rules in RULES.items()
        if rules[which] is not keep
    )
