"""The demo's markets: who buys from a small shop in each country Amazon Pay sells in.

A market is a shop (its name and what it sells), the Amazon Pay region its account is in, and
its buyers: most at home, paying in the region's currency; in the EU region also some from the
UK in pounds and from Switzerland in francs (presentment currencies an EU merchant may charge
in). Every name, street and town is fictional or common; postcodes are real towns' central
ones so addresses read right.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from .currencies import presentment_currencies


@dataclass(frozen=True, slots=True)
class Place:
    """A town, as Amazon's address fields hold it."""

    city: str
    state_or_region: str | None
    postal_code: str
    country_code: str
    #: The quarter within the city (Japanese addresses name it before the block number).
    district: str | None = None


@dataclass(frozen=True, slots=True)
class Buyers:
    """Buyers of one country, paying in one currency.

    ``streets`` are formats of ``addressLine1``: ``{street}``-free templates filled with a
    house number ``{n}`` (Japan: block numbers ``{a}-{b}-{c}``).
    """

    currency: str
    #: (name, the part of the e-mail address before the @)
    people: tuple[tuple[str, str], ...]
    places: tuple[Place, ...]
    streets: tuple[str, ...]
    cards: tuple[str, ...]
    #: The highest house number drawn.
    house_numbers: int = 120

    def street(self, rng: random.Random) -> str:
        if "{a}" in self.streets[0]:
            return rng.choice(self.streets).format(a=rng.randint(1, 5), b=rng.randint(1, 20), c=rng.randint(1, 30))
        number = rng.randint(2, self.house_numbers)
        return rng.choice(self.streets).format(n=number)


@dataclass(frozen=True, slots=True)
class Market:
    """One country's demo shop."""

    code: str
    #: The Amazon Pay region of the shop's account (the emulator's and the client's).
    region: str
    shop: str
    #: What the shop sells, with a price in the home currency.
    items: tuple[tuple[str, str], ...]
    home: Buyers
    #: Buyers from abroad, each paying in their own currency (EU region only).
    abroad: tuple[Buyers, ...] = ()

    def currencies(self) -> tuple[str, ...]:
        return (self.home.currency, *(b.currency for b in self.abroad))


_CARDS = ("Visa ****1111", "Mastercard ****4444", "Amex ****0005", "Visa ****4242", "Amazon Pay balance")
_EU_CARDS = ("Visa ****1111", "Mastercard ****4444", "Visa ****4242", "Mastercard ****5100", "Amazon Pay balance")

_UK_BUYERS = Buyers(
    "GBP",
    (("Oliver Bennett", "oliver.bennett"), ("Amelia Clarke", "amelia.clarke"),
     ("Harry Walsh", "harry.walsh"), ("Isla Morgan", "isla.morgan"), ("George Hughes", "george.hughes"),
     ("Emily Shaw", "emily.shaw"), ("Jack Turner", "jack.turner"), ("Poppy Ellis", "poppy.ellis")),
    (Place("Manchester", None, "M1 1AE", "GB"), Place("Bristol", None, "BS1 4DJ", "GB"),
     Place("Leeds", None, "LS1 4AP", "GB"), Place("Edinburgh", None, "EH1 1YZ", "GB"),
     Place("Norwich", None, "NR2 1NH", "GB")),
    ("{n} Mill Lane", "{n} Church Street", "{n} Victoria Road", "{n} Queen's Terrace", "{n} Station Road"),
    _EU_CARDS,
)
_SWISS_BUYERS = Buyers(
    "CHF",
    (("Lukas Meier", "lukas.meier"), ("Nina Keller", "nina.keller"), ("Luca Bernasconi", "luca.bernasconi"),
     ("Chloé Favre", "chloe.favre"), ("Reto Brunner", "reto.brunner"), ("Laura Steiner", "laura.steiner")),
    (Place("Zürich", None, "8001", "CH"), Place("Winterthur", None, "8400", "CH"), Place("Bern", None, "3011", "CH"),
     Place("Basel", None, "4051", "CH"), Place("Luzern", None, "6003", "CH")),
    ("Bahnhofstrasse {n}", "Kirchgasse {n}", "Hauptstrasse {n}", "Dorfstrasse {n}", "Poststrasse {n}"),
    _EU_CARDS,
)

MARKETS: dict[str, Market] = {
    # The US market is the demo as it always was: the same buyers, towns and random draws.
    "us": Market(
        "us", "na", "Merchant Desk Sandbox Shop",
        (("Cast-iron skillet, 10 in", "38.00"), ("Maple syrup, two bottles", "24.99"),
         ("Wool throw blanket", "89.00"), ("Pour-over coffee set", "49.95")),
        Buyers(
            "USD",
            (("Maya Lindqvist", "maya.lindqvist"), ("Tomás Ferreira", "tomas.ferreira"),
             ("Priya Raman", "priya.raman"), ("Jonah Whitfield", "jonah.whitfield"),
             ("Aiko Tanabe", "aiko.tanabe"), ("Lena Hoffmann", "lena.hoffmann"), ("Marcus Obi", "marcus.obi"),
             ("Clara Dubois", "clara.dubois"), ("Ravi Menon", "ravi.menon"),
             ("Sofia Marchetti", "sofia.marchetti"), ("Ethan Brooks", "ethan.brooks"), ("Yuki Mori", "yuki.mori"),
             ("Hannah Keller", "hannah.keller"), ("Diego Alvarez", "diego.alvarez"),
             ("Nora Fitzgerald", "nora.fitzgerald"), ("Samir Haddad", "samir.haddad"),
             ("Ingrid Solberg", "ingrid.solberg"), ("Kofi Mensah", "kofi.mensah"),
             ("Elena Petrova", "elena.petrova"), ("Oliver Grant", "oliver.grant")),
            (Place("Portland", "OR", "97205", "US"), Place("Austin", "TX", "78701", "US"),
             Place("Columbus", "OH", "43215", "US"), Place("Madison", "WI", "53703", "US")),
            ("{n} Maple Avenue", "{n} Harbor Road", "{n} Linden Lane", "{n} Orchard Street", "{n} Birch Court",
             "{n} Mill Way"),
            _CARDS,
            house_numbers=980,
        ),
    ),
    "uk": Market(
        "uk", "uk", "Hartley & Finch Homeware",
        (("Enamel teapot, 1 litre", "32.00"), ("Linen tea towels, set of three", "18.50"),
         ("Stoneware mixing bowl", "27.00"), ("Lambswool scarf", "45.00")),
        _UK_BUYERS,
    ),
    "it": Market(
        "it", "eu", "Bottega Marchetti",
        (("Moka in alluminio, 6 tazze", "34.99"), ("Olio extravergine di oliva, 3 × 750 ml", "45.00"),
         ("Tagliere in legno d'ulivo", "59.80"), ("Caffè macinato, 4 × 250 g", "22.50")),
        Buyers(
            "EUR",
            (("Giulia Romano", "giulia.romano"), ("Marco Bianchi", "marco.bianchi"),
             ("Francesca Ricci", "francesca.ricci"), ("Luca Esposito", "luca.esposito"),
             ("Chiara Colombo", "chiara.colombo"), ("Alessandro Greco", "alessandro.greco"),
             ("Sara Bruno", "sara.bruno"), ("Matteo Gallo", "matteo.gallo"), ("Elena Conti", "elena.conti"),
             ("Davide Mancini", "davide.mancini"), ("Valentina De Luca", "valentina.deluca"),
             ("Federico Costa", "federico.costa")),
            (Place("Milano", "MI", "20121", "IT"), Place("Bologna", "BO", "40121", "IT"),
             Place("Torino", "TO", "10121", "IT"), Place("Napoli", "NA", "80133", "IT"),
             Place("Firenze", "FI", "50122", "IT")),
            ("Via Giuseppe Garibaldi {n}", "Corso Vittorio Emanuele II {n}", "Via Roma {n}",
             "Viale dei Mille {n}", "Via Dante Alighieri {n}"),
            _EU_CARDS,
        ),
        (_UK_BUYERS, _SWISS_BUYERS),
    ),
    "de": Market(
        "de", "eu", "Lindner Manufaktur",
        (("Emaille-Kaffeekanne, 1,5 l", "45.00"), ("Leinen-Geschirrtücher, 3 Stück", "22.50"),
         ("Holzschneidebrett Eiche", "59.80"), ("Bienenwachskerzen, 6 Stück", "16.40")),
        Buyers(
            "EUR",
            (("Anna Schneider", "anna.schneider"), ("Lukas Müller", "lukas.mueller"),
             ("Katharina Weber", "katharina.weber"), ("Jonas Fischer", "jonas.fischer"),
             ("Julia Wagner", "julia.wagner"), ("Felix Becker", "felix.becker"),
             ("Laura Hoffmann", "laura.hoffmann"), ("Maximilian Schulz", "maximilian.schulz"),
             ("Sophie Koch", "sophie.koch"), ("Tobias Richter", "tobias.richter"), ("Lea Klein", "lea.klein"),
             ("Jan Wolf", "jan.wolf")),
            (Place("Leipzig", None, "04109", "DE"), Place("Hamburg", None, "20095", "DE"),
             Place("München", None, "80331", "DE"), Place("Köln", None, "50667", "DE"),
             Place("Berlin", None, "10115", "DE")),
            ("Lindenstraße {n}", "Hauptstraße {n}", "Goethestraße {n}", "Am Markt {n}", "Bahnhofstraße {n}"),
            _EU_CARDS,
        ),
        (_UK_BUYERS, _SWISS_BUYERS),
    ),
    "fr": Market(
        "fr", "eu", "Atelier Lumière",
        (("Bougie parfumée au figuier", "22.50"), ("Théière en fonte, 0,8 l", "45.00"),
         ("Nappe en lin lavé", "79.00"), ("Savons de Marseille, lot de 4", "16.40")),
        Buyers(
            "EUR",
            (("Camille Martin", "camille.martin"), ("Louis Bernard", "louis.bernard"),
             ("Chloé Dubois", "chloe.dubois"), ("Hugo Thomas", "hugo.thomas"), ("Léa Robert", "lea.robert"),
             ("Arthur Richard", "arthur.richard"), ("Manon Petit", "manon.petit"), ("Jules Durand", "jules.durand"),
             ("Inès Leroy", "ines.leroy"), ("Gabriel Moreau", "gabriel.moreau"),
             ("Émilie Laurent", "emilie.laurent"), ("Théo Simon", "theo.simon")),
            (Place("Lyon", None, "69002", "FR"), Place("Paris", None, "75011", "FR"),
             Place("Bordeaux", None, "33000", "FR"), Place("Lille", None, "59000", "FR"),
             Place("Nantes", None, "44000", "FR")),
            ("{n} rue Victor Hugo", "{n} avenue Jean Jaurès", "{n} boulevard Voltaire",
             "{n} rue de la République", "{n} rue Pasteur"),
            _EU_CARDS,
        ),
        (_UK_BUYERS, _SWISS_BUYERS),
    ),
    "es": Market(
        "es", "eu", "La Alacena de Triana",
        (("Aceite de oliva virgen extra, 3 × 750 ml", "34.99"), ("Cazuela de barro, 24 cm", "22.50"),
         ("Azulejos pintados a mano, 4 unidades", "45.00"), ("Turrón artesano, 3 tabletas", "16.40")),
        Buyers(
            "EUR",
            (("Lucía García", "lucia.garcia"), ("Hugo Fernández", "hugo.fernandez"),
             ("Martina López", "martina.lopez"), ("Pablo Martínez", "pablo.martinez"),
             ("Sofía Sánchez", "sofia.sanchez"), ("Daniel Pérez", "daniel.perez"),
             ("Carmen Gómez", "carmen.gomez"), ("Alejandro Ruiz", "alejandro.ruiz"),
             ("Paula Díaz", "paula.diaz"), ("Javier Moreno", "javier.moreno"),
             ("Elena Álvarez", "elena.alvarez"), ("Sergio Romero", "sergio.romero")),
            (Place("Sevilla", "Sevilla", "41001", "ES"), Place("Madrid", "Madrid", "28013", "ES"),
             Place("Valencia", "Valencia", "46002", "ES"), Place("Barcelona", "Barcelona", "08002", "ES"),
             Place("Bilbao", "Bizkaia", "48005", "ES"), Place("Jerez de la Frontera", "Cádiz", "11403", "ES")),
            ("Calle Real, {n}", "Calle Mayor, {n}", "Avenida de la Constitución, {n}",
             "Calle San Juan, {n}", "Plaza Nueva, {n}"),
            _EU_CARDS,
        ),
        (_UK_BUYERS, _SWISS_BUYERS),
    ),
    "jp": Market(
        "jp", "jp", "木村雑貨店",
        (("南部鉄器 急須 0.6L", "6980"), ("今治タオル フェイスタオル 3枚組", "3900"),
         ("美濃焼 飯碗 ペア", "4320"), ("ほうじ茶 ティーバッグ 50袋", "1650")),
        Buyers(
            "JPY",
            (("佐藤 美咲", "misaki.sato"), ("鈴木 健太", "kenta.suzuki"), ("高橋 陽菜", "hina.takahashi"),
             ("田中 翔太", "shota.tanaka"), ("伊藤 さくら", "sakura.ito"), ("渡辺 大輔", "daisuke.watanabe"),
             ("山本 結衣", "yui.yamamoto"), ("中村 拓海", "takumi.nakamura"), ("小林 葵", "aoi.kobayashi"),
             ("加藤 蓮", "ren.kato")),
            (Place("大阪市北区", "大阪府", "530-0001", "JP", "梅田"),
             Place("札幌市中央区", "北海道", "060-0001", "JP", "北一条西"),
             Place("福岡市博多区", "福岡県", "812-0011", "JP", "博多駅前"),
             Place("仙台市青葉区", "宮城県", "980-0811", "JP", "一番町"),
             Place("神戸市中央区", "兵庫県", "650-0001", "JP", "加納町"),
             Place("渋谷区", "東京都", "150-0041", "JP", "神南")),
            ("{a}-{b}-{c}",),
            ("Visa ****1111", "Mastercard ****4444", "JCB ****0003", "Amex ****0005", "Amazon Pay balance"),
        ),
    ),
}

#: The market a region's seed takes when no market is named (``sandbox serve --seed``).
REGION_MARKETS: dict[str, str] = {"na": "us", "us": "us", "eu": "de", "de": "de", "uk": "uk", "jp": "jp"}

#: Which market the demo shows for a language (``en_GB``: the UK's).
LANGUAGE_MARKETS: dict[str, str] = {"it": "it", "de": "de", "fr": "fr", "es": "es", "ja": "jp"}


def market_for_locale(locale: str) -> Market:
    """The demo's market for an i18n locale (``it``, ``de_CH``, ``en_GB``, ``ja``); English: the US."""
    language, _, territory = locale.partition("_")
    if language == "en" and territory == "GB":
        return MARKETS["uk"]
    return MARKETS[LANGUAGE_MARKETS.get(language, "us")]


def check_market(market: Market) -> None:
    """Refuse a market whose buyers pay in a currency its region's merchants may not charge in
    (as Amazon would)."""
    region = market.region
    accepted = presentment_currencies(region)
    for currency in market.currencies():
        if currency not in accepted:
            raise ValueError(f"market {market.code}: {currency} is not accepted in region {region}")
