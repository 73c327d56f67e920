"""How key figures, figure changes and stories are written to and read from the store's JSON columns.

One codec for every reader (pipeline, delivery, `/news`): a figure written by one is read the same way by
all. Reading is tolerant: a malformed item is skipped, never fatal to an alert or a reply.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from storage.models import StoryRow
from storage.stories_repo import NewStoryRow
from stories.model import FigureChange, KeyFigure, StoryCluster


def figure_to_json(figure: KeyFigure) -> dict[str, Any]:
    return {
        "value": figure.value,
        "text": figure.text,
        "what": figure.what,
        "unit": figure.unit,
        "score": figure.score,
    }


def figure_from_json(data: Any) -> KeyFigure | None:
    """The figure stored in `data`; None when it is not a readable figure."""
    if not isinstance(data, dict):
        return None
    try:
        return KeyFigure(
            value=float(data["value"]),
            text=str(data.get("text", "")),
            what=str(data.get("what", "")),
            unit=data.get("unit"),
            score=float(data.get("score") or 0.0),
        )
    except (KeyError, TypeError, ValueError):
        return None


def figures_from_json(items: Iterable[Any] | None) -> tuple[KeyFigure, ...]:
    return tuple(figure for figure in map(figure_from_json, items or ()) if figure is not None)


def change_to_json(change: FigureChange) -> dict[str, Any]:
    return {
        "what": change.what,
        "old": figure_to_json(change.old) if change.old else None,
        "new": figure_to_json(change.new) if change.new else None,
        "text": change.describe(),
    }


def changes_from_json(items: Iterable[Any] | None) -> tuple[FigureChange, ...]:
    changes = []
    for item in items or ():
        if isinstance(item, dict) and (item.get("old") or item.get("new")):
            old, new = figure_from_json(item.get("old")), figure_from_json(item.get("new"))
            changes.append(FigureChange(what=str(item.get("what", "")), old=old, new=new))
    return tuple(changes)


def story_from_row(row: StoryRow | NewStoryRow, figures: tuple[KeyFigure, ...] | None = None) -> StoryCluster:
    """The domain view of a stored story (`figures`: the row's figures already parsed, if at hand)."""
    return StoryCluster(
        story_id=row.id,  # type: ignore[arg-type]  # None until a new story is inserted
        title=row.title,
        link=row.link,
        source=row.source,
        summary=row.summary or "",
        language=row.language,
        topics=tuple(row.topics or ()),
        matched=tuple(row.matched or ()),
        figures=figures if figures is not None else figures_from_json(row.figures),
        first_seen=row.first_seen_at,
        published=row.published_at,
        revision=row.revision or 1,
        source_count=row.source_count or 1,
        relevant=row.relevant,
    )
