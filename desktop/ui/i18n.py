"""The interface language: French is the source language of every string; others load a compiled
``assets/translations/agent_assist_<language>.qm``. Qt's own strings (dialog buttons, context menus) follow.

Installing a translator makes Qt send every widget a ``LanguageChange`` event: the panel's widgets retranslate
themselves, so the language can change while the app runs.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QLibraryInfo, QTranslator

from desktop.paths import assets_dir

log = logging.getLogger("agent_assist.ui.i18n")
SOURCE_LANGUAGE = "fr"
LANGUAGES = ("fr", "en")
# Object name of the translators installed here, so that the next call finds and replaces them.
_TAG = "agent-assist-translator"


def translations_dir() -> Path:
    return assets_dir() / "translations"


def translation_file(language: str) -> Path:
    return translations_dir() / f"agent_assist_{language}.qm"


def normalize_language(language: str | None) -> str:
    """``"en_GB"``, ``"EN-us"`` → ``"en"``; empty → the source language."""
    code = (language or SOURCE_LANGUAGE).replace("-", "_").split("_")[0].strip().lower()
    return code or SOURCE_LANGUAGE


def install_translator(app: QCoreApplication, language: str | None) -> QTranslator | None:
    """Show the interface in ``language``, replacing what an earlier call installed.

    Returns the application's translator, None for French (the source strings need none) and for a language
    without a translation (the interface then stays in French, with a logged warning).
    """
    for old in app.findChildren(QTranslator, _TAG):
        app.removeTranslator(old)
        old.setParent(None)
    code = normalize_language(language)
    qt_strings = QTranslator(app)
    qt_strings.setObjectName(_TAG)
    if qt_strings.load(f"qtbase_{code}", QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)):
        app.installTranslator(qt_strings)
    else:
        qt_strings.setParent(None)
    if code == SOURCE_LANGUAGE:
        return None
    translator = QTranslator(app)
    translator.setObjectName(_TAG)
    if not translator.load(str(translation_file(code))):
        translator.setParent(None)
        log.warning("no translation for language %r: the interface stays in French", language)
        return None
    app.installTranslator(translator)
    log.info("interface language: %s", code)
    return translator
