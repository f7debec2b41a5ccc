"""Names of places and peoples: the small alias table the named-thing check uses.

"dutch" in a question is about the Netherlands; a bulletin may write "the Dutch DPA", "the
Netherlands" or only link to a ``.nl/`` site. Kept small and in the repository on purpose: extend it
when a question about a country is judged wrongly, and add a test.
"""

from __future__ import annotations

#: Nationality and country words and what they also appear as in bulletins.
ALIASES: dict[str, tuple[str, ...]] = {
    "dutch": ("netherlands", "holland"), "irish": ("ireland",), "german": ("germany",), "french": ("france",),
    "italian": ("italy", "garante"), "spanish": ("spain",), "swiss": ("switzerland", "fdpic"),
    "belgian": ("belgium",), "danish": ("denmark",), "norwegian": ("norway",), "swedish": ("sweden",),
    "finnish": ("finland",), "polish": ("poland",), "austrian": ("austria",), "portuguese": ("portugal",),
    "greek": ("greece",), "czech": ("czechia",), "hungarian": ("hungary",), "romanian": ("romania",),
    "estonian": ("estonia",), "latvian": ("latvia",), "lithuanian": ("lithuania",), "croatian": ("croatia",),
    "slovak": ("slovakia",), "slovenian": ("slovenia",), "bulgarian": ("bulgaria",), "cypriot": ("cyprus",),
    "maltese": ("malta",), "icelandic": ("iceland",), "british": ("uk", "britain", "united kingdom", "england"),
    "english": ("england", "uk"), "chinese": ("china", "prc"), "japanese": ("japan",), "korean": ("korea",),
    "indian": ("india",), "australian": ("australia",), "canadian": ("canada",), "american": ("us", "united states"),
    "brazilian": ("brazil",), "mexican": ("mexico",), "turkish": ("turkey", "türkiye"), "russian": ("russia",),
    "saudi": ("saudi arabia", "ksa"), "vietnamese": ("vietnam", "viet nam"), "thai": ("thailand",),
    "singaporean": ("singapore",), "indonesian": ("indonesia",), "malaysian": ("malaysia",),
    "filipino": ("philippines",), "emirati": ("uae", "united arab emirates"), "israeli": ("israel",),
    "nz": ("new zealand",), "uk": ("united kingdom", "britain", "british"), "us": ("united states", "u.s"),
    "usa": ("united states", "us"), "eu": ("european union", "european"), "european": ("eu", "europe"),
}
#: Country-code domains: a source link on the regulator's own site says which country an item is about.
_TLDS = {"netherlands": ".nl/", "germany": ".de/", "france": ".fr/", "italy": ".it/", "spain": ".es/",
         "ireland": ".ie/", "belgium": ".be/", "denmark": ".dk/", "norway": ".no/", "sweden": ".se/",
         "finland": ".fi/", "poland": ".pl/", "switzerland": ".ch/", "austria": ".at/", "united kingdom": ".uk/"}


def _symmetric(table: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
    """Aliases both ways ("dutch" → netherlands and netherlands → dutch), with country-code domains."""
    out: dict[str, set[str]] = {}
    for word, forms in table.items():
        for f in forms:
            out.setdefault(word, set()).add(f)
            out.setdefault(f, set()).add(word)
    for word in list(out):
        for f in list(out[word]) + [word]:
            if f in _TLDS:
                out[word].add(_TLDS[f])
    return {w: tuple(sorted(fs)) for w, fs in out.items()}


ALIASES = _symmetric(ALIASES)
COUNTRIES = frozenset(
    "netherlands ireland germany france italy spain switzerland belgium denmark norway sweden finland poland austria "
    "portugal greece czechia hungary romania estonia latvia lithuania croatia slovakia slovenia bulgaria cyprus malta "
    "iceland luxembourg liechtenstein britain england scotland wales china japan korea india australia canada brazil "
    "mexico turkey russia vietnam thailand singapore indonesia malaysia philippines israel argentina chile colombia "
    "peru nigeria kenya egypt bermuda jersey guernsey alabama alaska arizona arkansas california colorado "
    "connecticut delaware florida georgia hawaii idaho illinois indiana iowa kansas kentucky louisiana maine "
    "maryland massachusetts michigan minnesota mississippi missouri montana nebraska nevada ohio oklahoma oregon "
    "pennsylvania tennessee texas utah vermont virginia washington wisconsin wyoming "
    # Chinese provinces, municipalities and cities the China bulletins name
    "beijing shanghai tianjin chongqing guangdong shenzhen guangzhou zhejiang hangzhou jiangsu nanjing nantong "
    "suzhou shandong henan hebei hubei wuhan hunan fujian xiamen sichuan chengdu yunnan guizhou shaanxi shanxi "
    "anhui jiangxi liaoning jilin heilongjiang hainan gansu qinghai xinjiang tibet ningxia guangxi".split())
#: Question words that are never named things (question words, months, weekdays, legal references).
NOT_ENTITIES = frozenset(
    "i we you they what whats when who which how did does do is are was were the a an of in on for to under "
    "january february march april may june july august september october november december monday tuesday "
    "wednesday thursday friday saturday sunday ok pls please art article arts articles sec section sections recital "
    "para paragraph annex chapter schedule part".split())
