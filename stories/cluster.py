"""Which story an entry belongs to, and whether it changes that story's figures. Pure decisions: the store
finds the candidates (`storage.stories_repo`), this module judges them.

An entry joins a story when it is
- an exact copy: same canonical link, same guid, or the same normalised text;
- a near copy: MinHash similarity of the shingled text of at least `NEAR_DUPLICATE_SIMILARITY`, in the window;
- the same facts: within the window, a score over shared (or revised, or vaguer) figures weighted by how
  distinctive they are and whether they count the same thing, shared names (accents and case folded; the
  beat's two countries excluded), the day of the week both name, closeness in time, and for an entry with
  no figures to compare, a shared sub-topic (`facts_score`). This is how a Spanish version of an English wire
  story, a rewrite by another outlet or an update with a new count finds the original; candidates come from
  indexed figure keys and day-bucketed name keys (`name_keys`), never a scan.
Two stories on the same topic share a background figure ("armed forces of 365,000"), not most of their
figures, and a round count at the same places on another day is another event, so they stay apart.

A figure's `what` is compared by stems and EN/ES concepts ("troops", "militares", "members of the armed
forces"), so an update worded differently still pairs 326 -> 411; the same value counting known different
things ("20 trucks", "20 soldiers") is not shared. A qualified figure the current value satisfies ("more than
300" for 326, "about 400" for 411) is the same figure, not a change.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache

from stories.fingerprint import figure_value_key, is_distinctive
from stories.model import FigureChange, KeyFigure
from stories.numerals import fold

NEAR_DUPLICATE_SIMILARITY = 0.5
MATCH_WINDOW = timedelta(days=4)
UPDATE_WINDOW = timedelta(hours=36)
MIN_SHARED_FIGURE_RATIO = 0.5
# Weights of the same-facts evidence (see facts_score). The threshold needs, e.g., two distinctive figures and
# a shared name, or one distinctive figure, three names and publication within hours; small counts ("4
# soldiers") weigh half, so a pair of them also needs names and timing.
SAME_FACTS_SCORE = 2.5
POINTS_DISTINCTIVE = 1.0
POINTS_SMALL = 0.5
# A shared figure that counts the same thing on both sides (by stems or concepts): this times its weight.
POINTS_SAME_WHAT = 0.5
POINTS_ROUND = 0.5  # a round count ("20", "300"): recurs across a beat's stories by chance
LARGE_FIGURE = 10_000
POINTS_REVISION = 0.75
POINTS_NAME = 0.5
MAX_NAME_POINTS = 2.0
POINTS_ALL_RECUR = 0.5
POINTS_CLOSE_IN_TIME = 0.5
CLOSE_IN_TIME = timedelta(hours=6)
# A revised count of the same thing stays within this factor of the old one (326 -> 411); a guessed pairing
# (no shared words, e.g. across languages) within the tighter one.
REVISION_RATIO = 3.0
GUESSED_REVISION_RATIO = 2.0
_WHAT_WORD = re.compile(r"\w+")
_WHAT_STOP = frozenset({"of", "in", "the", "de", "del", "en", "la", "el", "los", "las", "a", "an"})
# Name keys of the beat's two countries (and their demonyms): every story names them, so sharing them is no
# evidence, and in what a figure counts they qualify the noun ("Venezuelan migrants") rather than name it.
BACKGROUND_NAMES = frozenset({"venez", "colom"})
# Evidence beyond figures (see facts_score): the days of the week the texts mention (the event's day; two
# reports naming only different days tell different events) and, for a story found by names alone (no
# figures to compare), a higher bar and a shared sub-topic.
POINTS_SAME_DAY = 0.5
POINTS_OTHER_DAY = -1.0
NAMES_ONLY_EXTRA = 0.5
MAX_NAME_POINTS_NAMES_ONLY = 2.0
# Words of a figure's `what` are compared by their first letters, folded (a crude EN/ES stem: "militares" and
# "military", "migrantes" and "migrants" meet), then by concept: EN and ES words for the things a beat counts.
WHAT_STEM_LETTERS = 5
_CONCEPT_WORDS = {
    "armed-forces": """soldier soldiers soldado soldados troop troops military militar militares efectivos
        force forces
        fuerza fuerzas armed armadas armados army ejercito guardsmen guardias uniformados desertores
        deserters deserter desertor officers oficiales servicemen""",
    "members": "member members miembro miembros integrantes",
    "migrants": """migrant migrants migrante migrantes refugee refugees refugiado refugiados displaced
        desplazados exiles exiliados asylum asilo""",
    "civilians": "civilian civilians civil civiles",
    "people": "people persons personas individuals individuos citizens ciudadanos residents habitantes",
    "vehicles": "truck trucks lorries lorry camion camiones vehicle vehicles vehiculos buses autobuses",
    "dead": """dead deaths killed muertos muertes fallecidos asesinados victims victimas bodies cuerpos
        homicides homicidios""",
    "injured": "injured wounded heridos lesionados",
    "detained": "arrested detained detainees detenidos capturados arrests detenciones prisoners presos",
    "children": "children child kids minors ninos ninas menores",
    "families": "families familias households hogares",
    "countries": "countries country nations paises naciones governments gobiernos",
    "weight": "tons tonnes toneladas kilos kilograms kilogramos",
    "distance": "kilometres kilometers kilometros miles millas",
    "days": "days dias",
    "hours": "hours horas",
    "pedestrians": "pedestrians peatones crossers",
    "fighters": """guerrillas guerrilleros rebels rebeldes fighters combatientes dissidents disidentes
        paramilitaries paramilitares""",
    "students": "students estudiantes pupils alumnos",
    "crossings": "crossings crossing pasos cruces trochas",
    "aid": "aid ayuda supplies suministros kits packages paquetes",
    "medicine": "medicines medicinas medicamentos drugs",
    "food": "food alimentos comida",
}
_CONCEPTS = {fold(word): concept for concept, words in _CONCEPT_WORDS.items() for word in words.split()}
# A figure stated with a qualifier is a bound or an estimate, not a new count: "more than 300" when the story
# says 326 is the same figure, vaguer. How far a precise value may sit from the qualified one and still agree.
_AT_LEAST = ("more than", "over ", "at least", "upwards of", "in excess of", "mas de", "al menos")
_ABOUT = ("about", "some ", "around", "roughly", "approximately", "nearly", "almost", "close to", "estimated",
          "an estimated", "up to", "unos", "unas", "cerca de", "alrededor de", "casi", "aproximadamente",
          "mas o menos", "hasta", "en torno a", "poco menos de", "poco mas de", "por lo menos")  # fmt: skip
_AT_MOST = ("fewer than", "less than", "under ", "menos de", "no more than")
AT_LEAST_SPAN = 1.5  # "more than 300" agrees with 300..450
ABOUT_SPAN = 0.15  # "about 400" agrees with 340..460
_DAY_NAMES = (
    "monday lunes|tuesday martes|wednesday miércoles|thursday jueves|friday viernes|saturday sábado|"
    "sunday domingo"
)
_DAYS = {fold(word): day for day, words in enumerate(_DAY_NAMES.split("|")) for word in words.split()}


class MatchKind:
    EXACT = "exact"
    NEAR = "near"
    FACTS = "facts"


@dataclass(slots=True)
class StoryFacts:
    """What matching needs to know about a story already stored (or created earlier in the same batch)."""

    figures: tuple[KeyFigure, ...]
    names: frozenset[str]
    time: datetime  # published, else first seen
    days: frozenset[int] = frozenset()  # days of the week the title and lead mention (see `day_mentions`)


_DAY_WORD = re.compile(r"[^\W\d_]{5,}")


def day_mentions(text: str) -> frozenset[int]:
    """Days of the week a text names, in English or Spanish (0 = Monday): the days of the event it tells."""
    return frozenset(day for word in _DAY_WORD.findall(text) if (day := _DAYS.get(fold(word))) is not None)


def within_window(a: datetime, b: datetime, window: timedelta = MATCH_WINDOW) -> bool:
    return abs(a - b) <= window


_Keyed = list[tuple[tuple[float, str], KeyFigure]]  # figures with their value keys, in order


def _keyed(figures: Sequence[KeyFigure]) -> _Keyed:
    return [(figure_value_key(figure), figure) for figure in figures]


def facts_score(
    figures: Sequence[KeyFigure],
    names: frozenset[str],
    when: datetime,
    story: StoryFacts,
    *,
    days: frozenset[int] = frozenset(),
    same_topic: bool = True,
) -> float:
    """How strongly an entry and a story tell the same facts; 0 when they cannot be the same story.

    Points: each figure both state of the same thing (a distinctive one, non-round or large, counts double a
    round or small count; the same value counting different things, "20 trucks" and "20 soldiers", counts
    nothing), each figure of the same thing with a plausibly revised value (an update), shared names other
    than the beat's two countries (capped), all figures of a side recurring, the same day of the week named
    (another day only: minus), and publication close in time (translations and republications follow within
    hours). When both sides state figures, shared-or-revised ones must cover half of the smaller side. When
    one side has none, names, days and time decide alone, against a higher bar and only on a shared topic.
    """
    # Value keys once per side: the same keyed lists serve the shared-figure test and the revisions.
    new_keyed, old_keyed = _keyed(figures), _keyed(story.figures)
    mine, theirs = dict(new_keyed), dict(old_keyed)
    shared = [key for key in mine.keys() & theirs.keys() if not _different_things(mine[key], theirs[key])]
    shared_names = names & story.names
    shared_names = shared_names - BACKGROUND_NAMES
    score = 0.0
    revised: list[tuple[KeyFigure, KeyFigure]] = []
    if mine and theirs:
        # Revisions as evidence of one story pair by stems only: by concept, "411 deserters in total" would
        # revise "326 members of the armed forces" in the next day's different story. By concept only the
        # two lead figures pair ("1,104 members of the armed forces" for "1,032 soldiers").
        revised, guessed = _keyed_revisions(old_keyed, new_keyed, concepts=False)
        if guessed:
            revised = []  # a pairing by magnitude alone is no evidence that two stories are one
        lead_old, lead_new = old_keyed[0], new_keyed[0]
        old_lead, new_lead = lead_old[1], lead_new[1]
        if (
            not revised
            and lead_old[0] != lead_new[0]
            and _same_thing(old_lead, new_lead)
            and not consistent(old_lead, new_lead)
        ):
            revised = [(old_lead, new_lead)]
        # A bound or estimate of a precise figure on the other side ("more than 300" for 326) is the same
        # figure, told vaguer.
        vague = [
            figure
            for key, figure in new_keyed
            if key not in theirs
            and any(consistent(other, figure) and _same_words(other, figure) for other in story.figures)
        ]
        smaller = min(len(mine), len(theirs))
        evidence = len(shared) + len(revised) + len(vague)
        if not evidence or evidence / smaller < MIN_SHARED_FIGURE_RATIO:
            return 0.0
        score += sum(figure_weight(mine[key]) for key in shared)
        score += POINTS_SAME_WHAT * sum(
            figure_weight(mine[key]) for key in shared if _same_words(mine[key], theirs[key])
        )
        score += sum(POINTS_ROUND for _ in vague)
        score += len(revised) * POINTS_REVISION
        score += min(len(shared_names) * POINTS_NAME, MAX_NAME_POINTS)
        if len(shared) >= 2 and len(shared) == smaller:
            score += POINTS_ALL_RECUR
    else:
        if not same_topic:
            return 0.0
        score -= NAMES_ONLY_EXTRA  # the bar is higher: nothing but names to go on
        score += min(len(shared_names) * POINTS_NAME, MAX_NAME_POINTS_NAMES_ONLY)
    if days and story.days:
        # An update is reported on a later day than the count it revises ("411, up from 326"): when a
        # revised figure comes with a figure both still state, another day is no evidence against it.
        update = bool(revised) and bool(shared)
        score += POINTS_SAME_DAY if days & story.days else 0.0 if update else POINTS_OTHER_DAY
    if abs(when - story.time) <= CLOSE_IN_TIME:
        score += POINTS_CLOSE_IN_TIME
    return score


def figure_weight(figure: KeyFigure) -> float:
    """Evidence of one shared figure: a distinctive one (money, a percentage, a decimal, a count from 10 up
    that is not round, any from 10,000 up) is rarely shared by chance; a round ("20", "300") or small count
    is."""
    if not is_distinctive(figure):
        return POINTS_SMALL
    value = float(figure.value)
    if figure.unit is not None or not value.is_integer() or value >= LARGE_FIGURE:
        return POINTS_DISTINCTIVE
    return POINTS_ROUND if _is_round(figure) and len(str(int(value)).rstrip("0")) < 2 else POINTS_DISTINCTIVE


def _is_round(figure: KeyFigure) -> bool:
    value = float(figure.value)
    return value.is_integer() and int(value) % 10 == 0


def facts_match(
    figures: Sequence[KeyFigure],
    names: frozenset[str],
    when: datetime,
    story: StoryFacts,
    *,
    days: frozenset[int] = frozenset(),
    same_topic: bool = True,
) -> bool:
    """Same story told in other words or another language (see `facts_score`)."""
    score = facts_score(figures, names, when, story, days=days, same_topic=same_topic)
    return score >= SAME_FACTS_SCORE


# Keyed by the phrase, not the figure: a frozen dataclass hashes and compares in Python, a str in C.
@lru_cache(maxsize=50_000)
def what_words(what: str) -> frozenset[str]:
    return frozenset(fold(word) for word in _WHAT_WORD.findall(what) if fold(word) not in _WHAT_STOP)


def _same_thing(a: KeyFigure, b: KeyFigure, concepts: bool = True) -> bool:
    """Two values of one quantity: same unit, overlapping words, and a plausible revision (not 20 -> 411)."""
    if a.unit != b.unit or not _comparable(a, b, REVISION_RATIO):
        return False
    return _same_words(a, b, concepts)


@lru_cache(maxsize=50_000)
def what_concepts(what: str, concepts: bool = True) -> frozenset[str]:
    """What a figure counts, as stems and concepts: "Venezuelan military personnel" and "members of
    Venezuela's armed forces" and "militares venezolanos" share "armed-forces". The beat's countries only
    qualify the noun, so they count only when nothing else is said."""
    stems = {
        (concepts and (_CONCEPTS.get(word) or _CONCEPTS.get(word.removesuffix("s"))))
        or word[:WHAT_STEM_LETTERS]
        for word in what_words(what)
        if len(word) > 1
    }
    return frozenset(stems - BACKGROUND_NAMES) or frozenset(stems)


def _same_words(a: KeyFigure, b: KeyFigure, concepts: bool = True) -> bool:
    """What the two figures count overlaps (in stems or concepts) by at least half of the shorter one."""
    return _same_what(a.what, b.what, concepts)


@lru_cache(maxsize=100_000)  # by the phrases: the same pairs recur for every candidate member compared
def _same_what(what_a: str, what_b: str, concepts: bool) -> bool:
    words_a, words_b = what_concepts(what_a, concepts), what_concepts(what_b, concepts)
    if not words_a or not words_b:
        return False
    overlap = len(words_a & words_b)
    return overlap / min(len(words_a), len(words_b)) >= 0.5


def _different_things(a: KeyFigure, b: KeyFigure) -> bool:
    """The same value counting different things, by known concepts ("20 trucks", "20 soldiers"). Unknown
    words say nothing: a figure's description may be a stray word of its sentence."""
    known_a = {word for word in what_concepts(a.what) if word in _CONCEPT_WORDS}
    known_b = {word for word in what_concepts(b.what) if word in _CONCEPT_WORDS}
    return bool(known_a and known_b) and not (what_concepts(a.what) & what_concepts(b.what))


def _qualifier(figure: KeyFigure) -> str | None:
    return _qualifier_of(figure.text)


@lru_cache(maxsize=50_000)
def _qualifier_of(written: str) -> str | None:
    text = fold(written.strip()) + " "
    for kind, prefixes in (("at-least", _AT_LEAST), ("about", _ABOUT), ("at-most", _AT_MOST)):
        if text.startswith(prefixes):
            return kind
    return None


def _within_qualifier(vague: KeyFigure, value: float) -> bool:
    kind, bound = _qualifier(vague), float(vague.value)
    if kind == "at-least":
        return bound <= value <= bound * AT_LEAST_SPAN
    if kind == "about":
        return abs(value - bound) <= bound * ABOUT_SPAN
    if kind == "at-most":
        return bound / AT_LEAST_SPAN <= value <= bound
    return False


def consistent(a: KeyFigure, b: KeyFigure) -> bool:
    """A bound or estimate that the other, precise value satisfies ("more than 300" and 326, "about 400" and
    411): the same figure stated more or less precisely, not a revision."""
    kind_a, kind_b = _qualifier_of(a.text), _qualifier_of(b.text)
    # The same kind of bound moved ("at least 326" then "at least 411", "about 300" then "about 400") is a
    # revised figure: a change. Two precise values are never merely consistent either.
    if a.unit != b.unit or kind_a == kind_b:
        return False
    return _within_qualifier(a, float(b.value)) or _within_qualifier(b, float(a.value))


def _comparable(a: KeyFigure, b: KeyFigure, ratio: float = GUESSED_REVISION_RATIO) -> bool:
    """Same unit and close in value: a revised count, not a different quantity."""
    if a.unit != b.unit or a.value <= 0 or b.value <= 0:
        return False
    return 1 / ratio <= a.value / b.value <= ratio


def _revisions(
    old: Sequence[KeyFigure], new: Sequence[KeyFigure]
) -> tuple[list[tuple[KeyFigure, KeyFigure]], bool]:
    """Pairs (old, new) of the same thing with different values, and whether the last pair is a guess.

    Figures are paired by what they count (same unit, overlapping words); when exactly one figure on each side
    is left unpaired and they are comparable (a translation's "militares" for "members"), they pair as a
    guess.
    """
    return _keyed_revisions(_keyed(old), _keyed(new))


def _keyed_revisions(
    old: _Keyed, new: _Keyed, concepts: bool = True
) -> tuple[list[tuple[KeyFigure, KeyFigure]], bool]:
    """`_revisions` of figures already keyed: same-facts scoring runs it for every candidate story member,
    and the pairing loops compare every figure with every other."""
    old_left, new_left = list(old), list(new)
    old_values = {key for key, _ in old_left}
    new_values = {key for key, _ in new_left}
    # The same thing with the same value is unchanged; settle those first, so that an old value quoted
    # again for context ("411, up from 326 a day earlier") cannot hide the revision of that very count.
    for item in list(new_left):
        key, figure = item
        partner = next((c for c in old_left if c[0] == key and _same_words(c[1], figure)), None)
        if partner is not None:
            old_left.remove(partner)
            new_left.remove(item)
    # Then a bound or estimate the other side's precise value satisfies ("more than 300" for 326): the same
    # figure stated vaguer (or more precisely), not a revision.
    for item in list(new_left):
        key, figure = item
        partner = next((c for c in old_left if consistent(c[1], figure) and _same_words(c[1], figure)), None)
        if partner is not None:
            old_left.remove(partner)
            new_left.remove(item)
    pairs: list[tuple[KeyFigure, KeyFigure]] = []
    for item in list(new_left):
        key, figure = item
        partner = next((c for c in old_left if c[0] != key and _same_thing(c[1], figure, concepts)), None)
        if partner is not None:
            pairs.append((partner[1], figure))
            old_left.remove(partner)
            new_left.remove(item)
    # Whatever is left with a value found on the other side is the same figure in other words (a
    # translation's "militares" for "members"): unchanged.
    old_unpaired = [figure for key, figure in old_left if key not in new_values]
    new_unpaired = [figure for key, figure in new_left if key not in old_values]
    if (
        not pairs
        and len(old_unpaired) == 1
        and len(new_unpaired) == 1
        and _comparable(old_unpaired[0], new_unpaired[0])
        and not consistent(old_unpaired[0], new_unpaired[0])
        and not _different_things(old_unpaired[0], new_unpaired[0])
    ):
        return [(old_unpaired[0], new_unpaired[0])], True
    return pairs, False


def figure_changes(old: Sequence[KeyFigure], new: Sequence[KeyFigure]) -> tuple[FigureChange, ...]:
    """What changed from the story's figures to an entry's: revised values of the same thing.

    Figures that appear unchanged, or only on one side, are not changes.
    """
    pairs, _ = _revisions(old, new)
    return tuple(
        FigureChange(what=after.what or before.what, old=before, new=after) for before, after in pairs
    )


def merge_figures(old: Sequence[KeyFigure], changes: Sequence[FigureChange]) -> tuple[KeyFigure, ...]:
    """The story's figures after an update: revised values replace the old ones in place."""
    replaced = {figure_value_key(change.old): change.new for change in changes if change.old and change.new}
    return tuple(replaced.get(figure_value_key(figure), figure) for figure in old)


def may_update(
    entry_time: datetime, story_time: datetime, old: Sequence[KeyFigure], new: Sequence[KeyFigure]
) -> bool:
    """Whether an entry that reads like the story may join it. A copy with the same figures may come days
    later; one with revised figures only within `UPDATE_WINDOW`: beyond it, it is the next edition of a
    recurring report (yesterday's count, today's count), a story of its own."""
    return abs(entry_time - story_time) <= UPDATE_WINDOW or not figure_changes(old, new)


def is_later(entry_time: datetime | None, story_time: datetime | None) -> bool:
    """An older copy arriving late is not an update, even if its figures differ."""
    return entry_time is None or story_time is None or entry_time >= story_time


NAME_KEY_DAYS = 1  # a story found by names alone is looked up this many days either side of the entry's


def name_keys(names: frozenset[str], when: datetime, spread: int = 0) -> tuple[int, ...]:
    """Lookup keys for the stories naming the same people and places on the same day (± `spread` days): one
    per name and day, so a key's rows stay bounded by a day's stories however many are stored. The beat's two
    countries are named by every story and get no key."""
    day = when.astimezone(UTC).date().toordinal()
    return tuple(
        sorted(
            {
                int.from_bytes(
                    hashlib.blake2b(f"name:{name}:{day + shift}".encode(), digest_size=8).digest(),
                    "big",
                    signed=True,
                )
                for name in names - BACKGROUND_NAMES
                for shift in range(-spread, spread + 1)
            }
        )
    )
