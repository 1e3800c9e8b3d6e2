"""Typo-tolerant party screening: candidate retrieval, then explainable scoring.

The shape follows nomenklatura/yente: a cheap index picks the few entries a
name could possibly be (here: exact tokens and one-deletion neighbours of
every name token, as in SymSpell), and only those are scored. Scoring aligns
name tokens one to one in any order, so word order never matters; a single
letter matches a token it is the initial of; transliteration and accents are
folded away first (`messages.text.fold`), so "Viktor Dragunov" is met by
"Виктор Драгунов", "Victor Dragunov" and "DRAGUNOV, Viktor".

Company names share their trade words: "Gulf Horizon General Trading" is not
"Gulf Meridian General Trading". Generic words ("general", "trading",
"import", "group") weigh a quarter of a distinctive word, and a match needs a
distinctive word to agree; spelled-out legal forms ("Limited Liability
Company") are dropped like their abbreviations.
"""

from __future__ import annotations

from dataclasses import dataclass

from rapidfuzz.distance import OSA

from messages.text import LEGAL_FORMS, fold

#: Below this a token pair is not a match at all (e.g. "ivan" vs "ivanov" still is).
_TOKEN_FLOOR = 0.7
_INITIAL_SIMILARITY = 0.8
#: A name token of the entry that the query lacks (a middle name) costs this much of a token.
_MISSING_ENTRY_TOKEN_WEIGHT = 0.25
_COUNTRY_MISMATCH_PENALTY = 15.0
_CACHE_SIZE = 50_000
#: What a generic trade word of a company name weighs against a distinctive one.
_GENERIC_WEIGHT = 0.25
GENERIC_ORG_WORDS = frozenset(
    {
        "general", "trading", "trade", "traders", "import", "imports", "export", "exports",
        "impex", "international", "intl", "group", "holding", "holdings", "global", "industrial",
        "industries", "industry", "technology", "technologies", "tech", "electronics",
        "electronic", "logistics", "shipping", "services", "service", "enterprise",
        "enterprises", "commercial", "commerce", "ecommerce", "supply", "supplies", "solutions",
        "products", "manufacturing", "development", "investment", "investments", "partners",
        "systems", "worldwide", "store", "shop", "dis", "ticaret", "sanayi", "handel",
        "handels", "commerciale", "comercial", "trading-co", "the", "and", "of", "&",
    }
)  # fmt: skip
#: Legal forms of the Gulf, Levant, Balkans and CIS that messages.text does not strip.
_MORE_LEGAL_FORMS = frozenset(
    {"sal", "sae", "saog", "saoc", "wll", "fze", "fzco", "fzc", "fzllc", "dmcc", "ojsc",
     "cjsc", "zao", "oao", "pao", "doo", "dd", "ad", "sti", "tas", "ltdsti"}
)  # fmt: skip
#: Legal forms written out in words, dropped as phrases (their words may be names alone).
_LEGAL_PHRASES = (
    ("limited", "liability", "company"), ("limited", "liability", "partnership"),
    ("limited", "liability"), ("joint", "stock", "company"), ("public", "limited", "company"),
    ("private", "limited"), ("limited", "partnership"), ("sociedad", "anonima"),
    ("societe", "anonyme"), ("sociedad", "limitada"), ("sociedade", "limitada"),
    ("mit", "beschrankter", "haftung"), ("per", "azioni"), ("a", "responsabilita", "limitata"),
    ("anonim", "sirketi"), ("limited", "sirketi"), ("ltd", "sti"), ("co", "ltd"),
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class WatchlistEntry:
    name: str
    country: str | None
    ref: str


@dataclass(frozen=True, slots=True)
class WatchHit:
    """A party that matched an entry: the reason shows both names and the score."""

    name: str  # the entry's name
    country: str | None
    ref: str
    score: float
    matched: str  # the party's name as declared

    def __str__(self) -> str:
        where = f" ({self.country})" if self.country else ""
        return f"{self.matched!r} matches {self.ref} {self.name!r}{where}, score {self.score:.0f}"

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)


def _without_legal_phrases(words: list[str]) -> list[str]:
    out: list[str] = []
    i = 0
    while i < len(words):
        for phrase in _LEGAL_PHRASES:
            if tuple(words[i : i + len(phrase)]) == phrase:
                i += len(phrase)
                break
        else:
            out.append(words[i])
            i += 1
    return out


def _legal_form(word: str) -> bool:
    return word in LEGAL_FORMS or word in _MORE_LEGAL_FORMS


def _weight(token: str) -> float:
    return _GENERIC_WEIGHT if token in GENERIC_ORG_WORDS else 1.0


def name_tokens(name: str) -> tuple[str, ...]:
    """Folded name words without legal forms; dotted forms ("G.m.b.H.", "L.L.C.") included."""
    words = _without_legal_phrases([t for t in fold(name).split(" ") if t])
    out: list[str] = []
    i = 0
    while i < len(words):
        j = i
        while j < len(words) and len(words[j]) == 1:
            j += 1
        if j - i >= 2 and _legal_form("".join(words[i:j])):
            i = j
            continue
        if not _legal_form(words[i]):
            out.append(words[i])
        i += 1
    return tuple(out)


def _deletions(token: str) -> set[str]:
    return {token[:i] + token[i + 1 :] for i in range(len(token))} | {token}


def _similarity(query: str, entry: str) -> float:
    if query == entry:
        return 1.0
    if len(query) == 1 or len(entry) == 1:
        return _INITIAL_SIMILARITY if query[0] == entry[0] else 0.0
    return OSA.normalized_similarity(query, entry)


def name_score(query: tuple[str, ...], entry: tuple[str, ...]) -> float:
    """0-100: tokens aligned one to one, best pairs first, order ignored.

    Extra query tokens count fully against the match (a different person);
    entry tokens the query leaves out (a middle name) count only partly;
    generic trade words count a quarter either way.
    """
    if not query or not entry:
        return 0.0
    # Initials or trade words alone never make a match: a distinctive full word must agree.
    if not any(len(q) > 1 and _weight(q) == 1.0 for q in query):
        return 0.0
    pairs = sorted(
        ((_similarity(q, e), i, j) for i, q in enumerate(query) for j, e in enumerate(entry)),
        reverse=True,
    )
    #: Query token -> the weight of the entry token it paired with ("genral" is "general").
    paired: dict[int, float] = {}
    used_e: set[int] = set()
    total = 0.0
    for sim, i, j in pairs:
        if sim < _TOKEN_FLOOR:
            break
        if i in paired or j in used_e:
            continue
        paired[i] = _weight(entry[j])
        used_e.add(j)
        total += sim * paired[i]
    missing = sum(_weight(e) for j, e in enumerate(entry) if j not in used_e)
    denominator = sum(paired.get(i, _weight(q)) for i, q in enumerate(query))
    denominator += _MISSING_ENTRY_TOKEN_WEIGHT * missing
    distinctive = any(len(query[i]) > 1 and weight == 1.0 for i, weight in paired.items())
    aligned = total / denominator if distinctive else 0.0
    # Split or joined words ("Quick Ship" / "Quickship") defeat token alignment; the names
    # with spaces removed still line up, and so must their distinctive words alone.
    compact = min(
        _compact_similarity(query, entry),
        _compact_similarity(
            tuple(q for q in query if _weight(q) == 1.0),
            tuple(e for e in entry if _weight(e) == 1.0),
        ),
    )
    return 100.0 * max(aligned, compact)


def _compact_similarity(query: tuple[str, ...], entry: tuple[str, ...]) -> float:
    if not query or not entry:
        return 0.0
    return OSA.normalized_similarity("".join(query), "".join(entry))


class Watchlist:
    """Screen names against a list; results for repeated names come from a bounded cache."""

    def __init__(self, entries: list[WatchlistEntry]) -> None:
        self.entries = tuple(entries)
        self._tokens = [name_tokens(e.name) for e in self.entries]
        self._index: dict[str, set[int]] = {}
        for n, tokens in enumerate(self._tokens):
            for token in tokens:
                if len(token) > 1:
                    for variant in _deletions(token):
                        self._index.setdefault(variant, set()).add(n)
        self._cache: dict[tuple[str, str | None], tuple[float, int] | None] = {}

    def __len__(self) -> int:
        return len(self.entries)

    def _candidates(self, tokens: tuple[str, ...]) -> set[int]:
        found: set[int] = set()
        index = self._index
        for token in tokens:
            if len(token) > 1:
                for variant in _deletions(token):
                    hit = index.get(variant)
                    if hit:
                        found |= hit
        return found

    def best(self, name: str, country: str | None) -> tuple[float, int] | None:
        """(score, entry number) of the best-scoring entry for `name`, or None."""
        key = (name, country)
        cache = self._cache
        if key in cache:
            return cache[key]
        tokens = name_tokens(name)
        result: tuple[float, int] | None = None
        for n in self._candidates(tokens):
            score = name_score(tokens, self._tokens[n])
            entry_country = self.entries[n].country
            if country and entry_country and country.upper() != entry_country:
                score -= _COUNTRY_MISMATCH_PENALTY
            if result is None or score > result[0]:
                result = (score, n)
        if len(cache) >= _CACHE_SIZE:
            cache.clear()  # bounded memory; a full rebuild is cheaper than LRU bookkeeping
        cache[key] = result
        return result

    def screen(
        self, names: list[str | None], country: str | None, min_score: float
    ) -> WatchHit | None:
        """The best hit at or above `min_score` among a party's names, or None."""
        best: WatchHit | None = None
        for name in names:
            if not name:
                continue
            found = self.best(name, country)
            if found is None or found[0] < min_score:
                continue
            score, n = found
            if best is None or score > best.score:
                entry = self.entries[n]
                best = WatchHit(entry.name, entry.country, entry.ref, round(score, 1), name)
        return best
