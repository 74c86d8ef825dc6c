"""The gate of a bounded read: may the mirror answer it, and is its answer marked stale?

A bounded read with bound S judges the follower's watermarks of every entity it touches, by
what can actually be wrong in its answer:

- The rows it returns are verified by key, so a row deleted or changed in the CRM is never
  shown; what verification cannot fix is a row the mirror lacks. So every bounded read needs
  the change watermark within S.
- What verification cannot check, `count()`, `exists()`, aggregates, `contains()` and the
  offset of a slice `[a:b]` with `a > 0`, also counts rows deleted in the CRM since the last
  complete key sweep. For those the delete watermark is judged against
  `max(S, CDMS_MAX_DELETE_STALENESS)`; past it the answer still comes from the mirror, marked
  stale (a key sweep of a large table takes longer than any useful S).

When the change watermark is past S (the follower stopped, or is behind), `CDMS_STALE_READS`
says what happens: `strict` reads the CRM strictly (which may refuse a read larger than
`CDMS_SYNC_MAX_ROWS`); `error` refuses the read (503, naming the watermark); `mirror` (the
default) reads strictly when a strict read can answer, and otherwise answers from the mirror,
marked stale: a read whose local rows alone exceed the cap, or one that the strict read refuses
or the CRM cannot answer. A marked answer carries the age of the stale watermark (the API's
`X-CDMS-Stale` header), is counted in `/metrics` and logged at most once a minute per entity (`throttle`).
"""

import datetime as dt
import logging
from dataclasses import dataclass, field

from django.utils import timezone

from ..conf import cdms_settings
from ..instruments import stale_answer, strict_fallback
from ..mirror.state import Watermark
from ..throttle import Throttle, repeated

log = logging.getLogger("migrator.read.gate")

# A stale mirror is logged once a minute per entity and watermark, not once a read.
_throttle = Throttle()


@dataclass(frozen=True)
class Stale:
    """One watermark past its bound: entity, `changes` or `deletions`, age and bound in seconds."""

    entity: str
    watermark: str
    age: float | None  # None: never set
    bound: float

    def describe(self):
        """Say which watermark is stale and by how much, in words."""
        if self.watermark == "verification":
            age = "never set" if self.age is None else f"{self.age:.0f} s old"
            return f"{self.entity}: the CRM did not answer the check by key; the change watermark is {age}"
        what = "change watermark" if self.watermark == "changes" else "delete watermark (last key sweep)"
        if self.age is None:
            return f"{self.entity}: the follower's {what} was never set"
        return (
            f"{self.entity}: the follower's {what} is {self.age:.0f} s old, past its bound of {self.bound:.0f} s"
        )


@dataclass
class Verdict:
    """What the watermarks allow one bounded read."""

    moment: dt.datetime | None = None  # the oldest change watermark (None: some entity has none)
    changes: list = field(default_factory=list)  # Stale change watermarks
    deletions: list = field(default_factory=list)  # Stale delete watermarks (judged reads only)

    @property
    def mirror_may_answer(self):
        """True when the change watermarks are within the bound."""
        return self.moment is not None and not self.changes

    @property
    def stale_seconds(self):
        """The age of the oldest stale watermark this answer is marked with (None: not stale)."""
        ages = [s.age for s in (*self.changes, *self.deletions)]
        if not ages:
            return None
        return max(ages, key=lambda age: float("inf") if age is None else age)

    def describe(self):
        """Every stale watermark, in words."""
        return "; ".join(s.describe() for s in (*self.changes, *self.deletions))


def judge(entities, using, bound, judge_deletions):
    """The Verdict of the watermarks of `entities` for a read with bound `bound` seconds."""
    marks = {w.entity: w for w in Watermark.objects.using(using).filter(entity__in=entities)}
    now = timezone.now()
    delete_bound = max(bound, cdms_settings.CDMS_MAX_DELETE_STALENESS)
    verdict = Verdict()
    for entity in entities:
        mark = marks.get(entity)
        changes = _age(now, mark and mark.changes_until)
        if changes is None or changes > bound:
            verdict.changes.append(Stale(entity, "changes", changes, bound))
        deletions = _age(now, mark and mark.deletions_until)
        if judge_deletions and (deletions is None or deletions > delete_bound):
            verdict.deletions.append(Stale(entity, "deletions", deletions, delete_bound))
    moments = [marks[e].changes_until for e in entities if e in marks and marks[e].changes_until]
    verdict.moment = min(moments) if len(moments) == len(entities) else None
    return verdict


def _age(now, moment):
    return None if moment is None else max((now - moment).total_seconds(), 0.0)


def stale_mode():
    """`mirror`, `strict` or `error`: what a read does when a change watermark is past its bound."""
    return cdms_settings.CDMS_STALE_READS


def fell_back(verdict):
    """Note a read that the stale change watermarks sent to the CRM strictly."""
    for stale in verdict.changes:
        strict_fallback(stale.entity)
        _warn(stale, "reading strictly")


def marked(verdict, why):
    """Note an answer from the mirror marked stale (`why`: what made it so, in words)."""
    for stale in (*verdict.changes, *verdict.deletions):
        stale_answer(stale.entity, stale.watermark)
        _warn(stale, f"answering from the mirror, marked stale ({why})")


def unverified(entities, using):
    """Note a mirror answer whose rows the CRM could not check by key; returns (moment, age)."""
    marks = Watermark.objects.using(using).filter(entity__in=entities)
    moments = [mark.changes_until for mark in marks if mark.changes_until is not None]
    moment = min(moments) if len(moments) == len(entities) else None
    age = _age(timezone.now(), moment)
    for entity in entities:
        stale_answer(entity, "verification")
        _warn(Stale(entity, "verification", age, 0.0), "answering from the mirror unverified")
    return moment, age


def forget_warnings():
    """Forget which warnings were logged, so the next of each is logged again."""
    _throttle.forget()


def _warn(stale, doing):
    held = _throttle.admit((stale.entity, stale.watermark, doing))
    if held is not None:
        log.warning("%s; %s.%s", stale.describe(), doing, repeated(held))
