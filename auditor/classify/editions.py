"""The editions of Microsoft's article the rules follow, as a reader cites them: which edition, in which language,
of what date, and where to read it."""

from __future__ import annotations

from dataclasses import dataclass

from auditor.model import Ruleset

ARTICLE_TITLE = "Troubleshoot outbound SMTP connectivity issues in Azure"
ARTICLE_URL = "https://learn.microsoft.com/troubleshoot/azure/virtual-network/troubleshoot-outbound-smtp-connectivity"


@dataclass(frozen=True)
class Edition:
    ruleset: Ruleset
    file: str  # the text this project keeps of it (the tests check every quote against it)
    language: str  # BCP 47 tag, for the page's lang attribute
    language_name: str
    dated: str  # what the edition's own metadata says of its date
    title: str  # the title in that language

    @property
    def label(self) -> str:
        which = "current edition" if self.ruleset is Ruleset.CURRENT else "2020 edition"
        return f"{which} ({self.language_name}, {self.dated})"


CURRENT = Edition(
    Ruleset.CURRENT,
    "002_ffedd479c7c75c57.txt",
    "cs",
    "Czech",
    "the article as published now; the copy carries no date",
    "Odstraňování potíží s odchozím připojením SMTP v Azure",
)
EDITION_2020_RU = Edition(
    Ruleset.EDITION_2020,
    "000_643e130fa403990c.txt",
    "ru",
    "Russian",
    "article of 2018-11-20, localised 2020-05-05",
    "Устранение проблем с исходящими подключениями SMTP в Azure",
)
# Where the two 2020 texts differ, the later one, Polish, stands.
EDITION_2020_PL = Edition(
    Ruleset.EDITION_2020,
    "003_30d7b769d5f0e677.txt",
    "pl",
    "Polish",
    "article of 2018-11-20, localised 2020-11-24",
    "Rozwiązywanie problemów z łącznością wychodzącą SMTP na platformie Azure",
)
EDITIONS: tuple[Edition, ...] = (CURRENT, EDITION_2020_RU, EDITION_2020_PL)
