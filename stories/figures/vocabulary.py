"""The words the figure rules read: months, units, currencies, scale and number words, and the words that
start, join or end the noun phrase a number counts. Data only; every set holds folded words (lower case, no
accents, `stories.numerals.fold`) unless its comment says otherwise.
"""

from __future__ import annotations

from stories.numerals import SPANISH_COLLECTIVES, WORD_NUMBERS


def _word_set(words: str) -> frozenset[str]:
    return frozenset(words.split())


# Month names and abbreviations, English and Spanish, folded, with their number.
MONTH_NUMBERS = {
    name: number
    for number, names in enumerate(
        (
            "january jan enero ene", "february feb febrero", "march mar marzo", "april apr abril abr",
            "may mayo", "june jun junio", "july jul julio", "august aug agosto ago",
            "september sep sept septiembre setiembre", "october oct octubre", "november nov noviembre",
            "december dec diciembre dic",
        ),
        start=1,
    )
    for name in names.split()
}  # fmt: skip
MONTHS = frozenset(MONTH_NUMBERS)
WEEKDAYS = _word_set(
    """monday tuesday wednesday thursday friday saturday sunday mon tue tues wed thu thur thurs fri sat sun
    lunes martes miercoles jueves viernes sabado domingo"""
)
# Words that join two day numbers of one date range or list: "del 7 al 9 de marzo", "from March 7 to 9",
# "entre el 12 y el 14 de junio", "7, 8 and 9 March".
DAY_RANGE_LINKS = _word_set("to and through thru till until or al a y e o hasta")
TIME_UNITS = _word_set(
    """second seconds minute minutes hour hours hr hrs day days week weeks month months year years decade
    decades century centuries segundo segundos minuto minutos hora horas dia dias semana semanas mes meses
    ano anos decada decadas siglo siglos am pm"""
)
ORDINAL_SUFFIXES = frozenset({"st", "nd", "rd", "th", "o", "a", "er", "era", "ro", "do", "da", "to", "ta"})
IDENTIFIER_WORDS = _word_set(
    """article articulo decree decreto law ley resolution resolucion route ruta number no num page pagina
    chapter capitulo room line linea flight vuelo gate puerta km kilometro kilometer highway carretera
    section seccion paragraph item lot code codigo placa placas plate plates hotline helpline frente front
    bloque brigada brigade batallon battalion"""
)
CURRENCY_PREFIX = {
    "$": "USD", "us$": "USD", "usd": "USD", "us": "USD", "€": "EUR", "eur": "EUR", "£": "GBP",
    "gbp": "GBP", "r$": "BRL", "col$": "COP", "cop": "COP", "ves": "VES", "bs": "VES", "bss": "VES",
}  # fmt: skip
# Abbreviations written with a dot before the amount: "Bs. 500", "BsS. 500" (bolívares, bolívares soberanos).
DOTTED_CURRENCY_PREFIX = {"bs": "VES", "bss": "VES"}
CURRENCY_SUFFIX = {
    "dollars": "USD", "dollar": "USD", "dolares": "USD", "dolar": "USD", "usd": "USD", "euros": "EUR",
    "euro": "EUR", "eur": "EUR", "pesos": "COP", "peso": "COP", "cop": "COP", "bolivares": "VES",
    "bolivars": "VES", "bolivar": "VES", "ves": "VES", "pounds": "GBP", "reais": "BRL", "reales": "BRL",
}  # fmt: skip
_MEASURE_WORDS = {
    "t": "tonnes tonne tons ton toneladas tonelada",
    "l": "litres litre liters liter litros litro",
    "gal": "gallons gallon galones galon",
    "bbl": "barrels barrel barriles barril",
    "km": "kilometres kilometre kilometers kilometer km kilometros kilometro",
    "mi": "miles mile millas milla",
    "m": "metres metre meters meter metros metro",
    "ha": "hectares hectare hectareas hectarea",
    "MW": "megawatts megawatt megavatios megavatio mw",
    "kg": "kilograms kilogram kilos kilo kg kilogramos kilogramo",
}
# Longest first: "cubic feet" before a bare unit, "barrels per day" before "barrels".
_MEASURES: tuple[tuple[tuple[str, ...], str], ...] = (
    (("barrels", "per", "day"), "bpd"),
    (("barriles", "por", "dia"), "bpd"),
    (("barriles", "diarios"), "bpd"),
    (("barrels", "a", "day"), "bpd"),
    (("barriles", "al", "dia"), "bpd"),
    (("bpd",), "bpd"),  # the trade press's own abbreviation: "2.1 million bpd"
    (("cubic", "feet"), "ft3"),
    (("pies", "cubicos"), "ft3"),
    (("cubic", "metres"), "m3"),
    (("cubic", "meters"), "m3"),
    (("metros", "cubicos"), "m3"),
    *(((word,), unit) for unit, words in _MEASURE_WORDS.items() for word in words.split()),
)
MEASURES_BY_FIRST: dict[str, list[tuple[tuple[str, ...], str]]] = {}
for _words, _unit in _MEASURES:
    MEASURES_BY_FIRST.setdefault(_words[0], []).append((_words, _unit))
PERCENT_WORDS = (("percent",), ("per", "cent"), ("por", "ciento"), ("porciento",), ("pct",))
PERCENT_FIRST = frozenset(words[0] for words in PERCENT_WORDS)
# Words that end the noun phrase a number counts: verbs, auxiliaries, relatives, conjunctions, adverbs.
PHRASE_STOP = _word_set(
    """have has had having are were is was be been being will would could can may might must should shall do
    does did said says say told according who whom whose which that these those this since after before when
    while because as than but and or nor if to for with by at on into onto from per than versus vs against
    during until till via about around over under between among across through despite without within where
    also already still just only now then there here they we he she it them us its their his her our your
    reportedly allegedly including
    han ha habia habian hay son fueron eran era es esta estan estaba estaban sera seran seria serian fue
    que quien quienes cual cuales cuyo cuya donde cuando mientras porque como segun desde tras hacia hasta
    para por con sin sobre entre contra durante ante bajo y e o u pero sino ya tambien aun solo se le les lo
    su sus al cada mas menos muy ellos ellas ella nosotros nosotras ustedes usted"""
)
# Inside a noun phrase these may join its parts: "members of Venezuela's armed forces", "civiles en los".
PHRASE_LINKS = frozenset({"of", "in", "the", "de", "del", "en", "la", "el", "los", "las", "a", "an"})
DETERMINERS = frozenset({"the", "a", "an", "la", "el", "los", "las", "un", "una", "unos", "unas"})
# A bare "members"/"miembros" says little; "Venezuela's armed forces number 365,000 members" means members
# of the armed forces, so the phrase before the verb completes it.
RELATIONAL_NOUNS = _word_set(
    """members member staff employees workers personnel troops soldiers residents inhabitants people strong
    miembros efectivos integrantes trabajadores empleados habitantes personas"""
)
HAVE_VERBS = _word_set(
    """number numbers numbered total totals totalled totaled has have had comprise comprises include
    includes counts count tiene tienen tenia tenian suma suman sumaban agrupa agrupan cuenta cuentan reune
    reunen"""
)
PERCENT_PARTS = frozenset({"percent", "cent", "per", "por", "ciento", "porciento", "pct"})
# Common verbs of numbers that no suffix rule catches.
IRREGULAR_VERBS = _word_set(
    """rose rise rises fell fall falls grew grow grows stood stands hit hits reach reaches top tops topped
    exceed exceeds total totals"""
)
# Words that cannot be the verb of "<phrase> <verb> N": a conjunction or list comma joins two amounts.
NOT_VERBS = _word_set("and or y e o u nor but pero ni plus")
# Links inside a noun phrase read right to left ("trade across the border").
LEFT_LINKS = _word_set("of in across at on along between through to de del en entre a")
# Adjectives between a verb and its amount: "reached a record $160 billion".
AMOUNT_ADJECTIVES = _word_set("record new total combined estimated additional further extra recorde nuevo")
# Verbs that take a clause ("expect X to reach N", "esperan que X llegue a N"): the phrase ends before them.
LEFT_STOP_VERBS = _word_set(
    """expect expects expected want wants wanted plan plans planned hope hopes hoped forecast forecasts
    project projects projected estimate estimates estimated need needs allow allows see sees saw expected
    espera esperan esperaba preve preven calcula calculan estima estiman proyecta proyectan"""
)
TIME_DEICTICS = _word_set("this last next past previous same este esta ese esa aquel pasado proximo mismo")
EARLIER_WORDS = _word_set("earlier before ago previously prior antes anterior atras")
# "(a) <word> from N" / "<word> a N": the number is the earlier value a change is measured from.
BACK_REFERENCES = frozenset(
    {("from", "compared"), ("with", "compared"), ("to", "compared"), ("versus", ""), ("a", "frente"),
     ("con", "comparacion"), ("a", "respecto"), ("de", "respecto")}
)  # fmt: skip
# "up 15 percent", "down 3%": the percentage is the change of the count before it.
CHANGE_WORDS = {"up": ("rise in", "aumento de"), "down": ("drop in", "caída de")}
FALLBACK_WHAT = {"%": ("share", "porcentaje"), "money": ("amount", "monto")}
FALLBACK_WORDS = frozenset(word for pair in FALLBACK_WHAT.values() for word in pair)
CURRENCY_CODES = frozenset({*CURRENCY_PREFIX.values(), *CURRENCY_SUFFIX.values(), "MXN"})
DIMENSIONS = {
    "long": "length", "wide": "width", "high": "height", "tall": "height", "deep": "depth",
    "largo": "longitud", "larga": "longitud", "ancho": "anchura", "ancha": "anchura", "alto": "altura",
    "alta": "altura", "profundo": "profundidad", "profunda": "profundidad",
}  # fmt: skip
# "un 12 % más que en enero", "20% fewer than": the same change, said after the number.
CHANGE_AFTER = {"more": "up", "mas": "up", "less": "down", "fewer": "down", "menos": "down"}
# Words after which an English word that is followed by them reads as a verb: "people cross the bridges".
OBJECT_STARTS = _word_set("the a an it them its their this these those his her our every each")
# "members" alone says nothing the group does not: "X number N members" gives the size of X.
MEMBERSHIP_NOUNS = _word_set("members member staff personnel strong miembros integrantes")
LEFT_PREPOSITIONS = _word_set("to a at of de al del by en in por from hasta")
QUOTES = frozenset({'"', "'", "«", "»"})
RATE_WORDS = _word_set("a per each every por al cada")
RATE_UNITS = _word_set("dia diario diarios")
COUNT_NOUNS = _word_set("number total count toll tally figure numero cifra total balance conteo saldo")
AUXILIARIES = _word_set("have has had been were are was is be han ha habian habia se sido fueron son eran")
PREDICATE_LINKS = _word_set("to in into at and a en y hacia by por")
# "the two countries", "los dos países": a small number after a definite article refers back to things
# already named, it does not report a count.
ANAPHORIC = _word_set("the these those both los las estos estas esos esas ambos")
# What "the two" of a border story most often refers back to: the countries and their governments, leaders and
# sides. A sentence opening with one of these is not counting them.
NAMED_PAIRS = _word_set(
    "paises countries gobiernos governments naciones nations presidentes presidents mandatarios leaders "
    "cancilleres ministros ministers lados sides partes parties orillas banks ciudades cities"
)
# Unless the count is one a report recites: "frente a los siete reportados inicialmente", "up from the five
# reported on Monday" give the earlier figure of a count that moved.
RECITED_COUNT = _word_set(
    "reportados reportadas informados informadas anunciados anunciadas confirmados confirmadas iniciales "
    "registrados registradas contabilizados contabilizadas reported announced confirmed counted"
)
# Sentences without a digit or a number word (articles "one"/"un"/"una" aside) cannot hold a figure; most
# sentences are skipped by this check.
STRONG_NUMBER_WORDS = frozenset(
    (set(WORD_NUMBERS) - {"one", "un", "una", "uno"})
    | {"dozen", "docena", "docenas", "hundred", "thousand", "mil", "centenar", "veintidós", "veintitrés"}
    | set(SPANISH_COLLECTIVES)
    | {"veintiséis"}
    | {"dieciséis", "veintiún"}
)
MULTIPLIER_WORDS = _word_set("dozen hundred thousand docena docenas centenar mil") | set(SPANISH_COLLECTIVES)
# Multipliers that can stand without a number ("hundred" in "several hundred"); a bare one is a count only
# after an article ("a dozen", "una docena") or "half" ("half a dozen", "media docena", "medio centenar").
BARE_MULTIPLIERS = _word_set("dozen hundred docena centenar") | set(SPANISH_COLLECTIVES)
HALF_WORDS = _word_set("half media medio")
# What introduces a place in Spanish ("en Maicao", "al Táchira", "desde La Guajira"), and a place's article.
PLACE_PREPOSITIONS = _word_set("en a al de del desde hacia hasta por para")
PLACE_ARTICLES = _word_set("la el los las")
VAGUE_QUANTIFIERS = _word_set(
    "several few many couple varios varias algunos algunas pocos pocas muchos muchas"
)
# "N of them", "dos de ellos": a part of a group already named; what it counts is said after ("Two of them
# are lieutenants", "three of them officers"). Pronouns after "of"/"de", and "de los cuales".
PARTITIVE_PRONOUNS = _word_set(
    """them us these those whom which ellos ellas estos estas esos esas aquellos aquellas nosotros nosotras
    quienes"""
)
# Verbs whose particle "over" takes the object: "handed over 31 rifles" is not "more than 31 rifles".
OVER_PARTICLE_VERBS = _word_set(
    "hand hands handed handing turn turns turned turning take takes took taken taking"
)
# The word before an age limit's number: "under 21", "over 65", "menores de 18", "sub 20".
AGE_LIMIT_LINKS = _word_set("under over de sub")
# Groups an age limit qualifies, besides plurals in -s: "children under five", "those over 65".
LIMITED_GROUPS = _word_set("children people men women youth those anyone everyone")
# The ends a noun phrase on the right is trimmed of ("civilians in the"): precomputed, not per call.
PHRASE_TRIM = PHRASE_LINKS | DETERMINERS
# A count as the subject of its verb ("1,845 travelled on into the interior", "31.020 lo hicieron con
# tarjeta"). Spanish object pronouns before the verb; verbs that stand for one named before ("lo hicieron",
# "did so"), whose complement says what the counted did; reporting verbs before what the counted said
# ("said they intended to stay", "dijeron que seguirían").
CLITICS = _word_set("lo la los las le les se")
PRO_VERBS = _word_set("hicieron hizo hacen hace hacian haran did do does")
REPORTING_VERBS = _word_set(
    "said say says told dijeron dicen afirmaron aseguraron declararon indicaron respondieron"
)
REPORTED_STARTS = _word_set("that they que ellos ellas")
# Common irregular past verbs a count can be the subject of ("1,200 fled", "40 went missing").
IRREGULAR_PAST = _word_set("rose fell grew stood hit went fled left came took made got gave sought ran")
# Besides `PREDICATE_LINKS`, words a predicate read after its verb runs through: particles and possessives
# ("travelled on into", "manifestaron su intención de").
PREDICATE_INNER = _word_set("on su sus their its his her")
# "75,000 more than in June", "61.000 más que en diciembre": a count compared with an earlier one.
COMPARATIVES = _word_set("more fewer less mas menos")
THAN = _word_set("than que")
# "la ciudad con más casos, con 1.250": the noun after these is what a later bare count elides.
MOST_WORDS = _word_set("more most mas")
ELIDED_LINKS = _word_set("with con")
# "One child remains missing", "One man was killed": a sentence-initial "One" counts when a verb of state or
# a participle says what happened to the one.
ONE_COPULAS = _word_set("is was remains remained")
ONE_STATES = _word_set("missing dead alive unaccounted")
# Proportions. A ratio "one in three", "six out of 10", "uno de cada tres" is one figure: the words that link
# its numerator to its denominator (after the numerator), by their first word.
RATIO_LINKS: dict[str, tuple[tuple[str, ...], ...]] = {
    "in": (("in",),),
    "out": (("out", "of"), ("out", "of", "every")),
    "of": (("of", "every"),),
    "de": (("de", "cada"),),
}
# A range "between 300 and 400", "entre 25.000 y 30.000": the word before its lower bound and its link.
RANGE_STARTS = _word_set("between entre")
RANGE_LINKS = _word_set("and y")
# Articles Spanish writes before each bound of a range of percentages: "entre un 20 y un 30 %".
RANGE_ARTICLES = _word_set("un el")
# Fractions: the word naming the part, and its value per unit of the number before it ("two-thirds").
FRACTIONS = {
    "half": 0.5, "third": 1 / 3, "thirds": 1 / 3, "quarter": 0.25, "quarters": 0.25,
    "mitad": 0.5, "tercio": 1 / 3, "tercios": 1 / 3,
}  # fmt: skip
# Spanish "la tercera parte", "una cuarta parte": an ordinal before "parte".
FRACTION_ORDINALS = {"tercera": 1 / 3, "cuarta": 0.25, "quinta": 0.2, "decima": 0.1}
# Numerators of a fraction written before it: "a third", "one-third", "two-thirds", "dos tercios".
FRACTION_NUMERATORS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "un": 1, "una": 1, "dos": 2, "tres": 3,
}  # fmt: skip
# Determiners a counted phrase may open with after "half (of)": "half of their children", "half the money".
HALF_DETERMINERS = _word_set("the their its his her our these those them all")
# What half or a third of is a time or a way, not a count ("half an hour", "la mitad del camino"), or a
# magnitude it compares with ("less than half the price", "la mitad del precio").
NOT_COUNTED_PARTS = _word_set(
    """time way distance route journey trip road game match season term mandate century decade
    camino trayecto recorrido ruta viaje partido temporada mandato periodo siglo tiempo
    price prices cost size rate level speed value average salary wage
    precio precios costo coste tamano tasa nivel velocidad valor promedio salario sueldo"""
)
# Words the screens let through for proportions written without a digit or a number word: "la mitad",
# "two-thirds", "medio millón" (each entry as `stories.figures.screen` matches it: lower case, accents kept).
PROPORTION_SCREEN_WORDS = frozenset(
    {"half", "mitad", "thirds", "quarters", "tercio", "tercios", "a third", "one third", "a quarter",
     "one quarter", "tercera parte", "cuarta parte", "medio millón", "medio millon"}
)  # fmt: skip
# Scale words "half" or "medio" may take: "half a million", "medio millón".
HALF_SCALES = _word_set("million billion millon millardo")
# After a clock hour: "before 5.", "until 6,": a bare hour after these words is a time.
CLOCK_PREPOSITIONS = _word_set("before after until till")
# A number after these is an identifier: "the 165 hotline"; before them, digits of a plate or code ("placa
# terminada en 3 y 4", "plates ending in 5").
IDENTIFIER_AFTER = _word_set("hotline hotlines helpline helplines")
ENDING_WORDS = _word_set(
    "terminada terminadas terminado terminados termina terminan terminen ending ends ended finalizada"
)
# "39 homicidios por cada 100.000 habitantes", "per 100,000 people": the base of a rate is no figure.
RATE_BASE_WORDS = _word_set("per cada")
RATE_BASES = frozenset({1.0, 10.0, 100.0, 1_000.0, 10_000.0, 100_000.0, 1_000_000.0})
# "the second half", "first half": a half after these is a part of a time or a match.
ORDINAL_WORDS = _word_set("first second other latter last final primera segunda otra ultima")
