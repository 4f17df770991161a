"""Style sheets select on dynamic properties (the verdict, a checklist point's state): re-apply on change."""

from __future__ import annotations

from PySide6.QtWidgets import QWidget


def repolish(widget: QWidget) -> None:
    """Apply the style sheet again to a widget and its children after one of their properties changed."""
    for each in (widget, *widget.findChildren(QWidget)):
        each.style().unpolish(each)
        each.style().polish(each)
        each.update()
