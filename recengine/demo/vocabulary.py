"""The words of the demo shop: categories, brands, product types, description and review phrases.

Data only. Each category has its own vocabulary, so descriptions within a category read alike while
products still differ (the slot values and the chosen sentences vary), and reviews talk about the
aspects that matter for that kind of product (sound quality for headphones, fit for running shoes).
Negative phrases carry clearly negative words and positive phrases clearly positive ones, so that a
lexicon sentiment scorer agrees with the stars except where a mismatch is intended.
"""

from __future__ import annotations

from dataclasses import dataclass, field

BUDGET, MID, PREMIUM = 0, 1, 2
TIER_NAMES = ("budget", "mid-range", "premium")


@dataclass(frozen=True)
class Brand:
    name: str
    tier: int


@dataclass(frozen=True)
class Aspect:
    positive: tuple[str, ...]
    negative: tuple[str, ...]


@dataclass(frozen=True)
class ProductType:
    """One leaf of the category tree, e.g. 'Electronics > Audio > Headphones'."""

    leaf: str
    nouns: tuple[tuple[str, str], ...]  # (noun used in names, short noun used in reviews)
    price: tuple[float, float]  # cheapest budget price .. dearest premium price
    features: tuple[str, ...]  # description sentences with {slots}
    uses: tuple[str, ...]
    aspects: tuple[str, ...]  # keys into the category's aspects (or the generic ones)
    name_pattern: str = "{brand} {series} {noun}"
    brands: tuple[str, ...] = ()  # restrict to these brands of the category (empty = all)
    consumable: bool = False  # bought again (coffee beans, socks, skincare)


@dataclass(frozen=True)
class CategorySpec:
    key: str
    department: str
    name: str
    sku_prefix: str
    brands: tuple[Brand, ...]
    series: tuple[str, ...]
    adjectives: tuple[str, ...]
    slots: dict[str, tuple[str, ...]]
    aspects: dict[str, Aspect]
    types: tuple[ProductType, ...]
    intros: tuple[str, ...] = (
        "The {name} is {described}.",
        "Meet the {name}, {described} at a {tier} price.",
        "{described} from the {tier} line of {brand}.",
        "The {name}: {described} built for everyday use.",
    )
    extra: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def path(self) -> str:
        return f"{self.department} > {self.name}"


# -- aspects every product can be reviewed on ------------------------------------------------------

GENERIC_ASPECTS: dict[str, Aspect] = {
    "delivery": Aspect(
        positive=(
            "Delivery was fast, it arrived a day early.",
            "Quick delivery and the courier was friendly.",
            "Arrived the next day, great service.",
        ),
        negative=(
            "Delivery took almost three weeks, which is terrible.",
            "The parcel arrived late and the box was crushed.",
            "Awful delivery experience, the courier left it in the rain.",
        ),
    ),
    "value": Aspect(
        positive=(
            "Great value for money.",
            "Excellent value, it feels like it should cost twice as much.",
            "For the price it is a real bargain.",
        ),
        negative=(
            "Overpriced for what you get.",
            "Poor value, there are better options for less money.",
            "Not worth the money at all.",
        ),
    ),
    "packaging": Aspect(
        positive=(
            "Nicely packaged, with no plastic waste.",
            "The packaging was lovely and well protected.",
        ),
        negative=(
            "The packaging was damaged and messy.",
            "Cheap packaging, it arrived dented and scratched.",
        ),
    ),
    "customer service": Aspect(
        positive=(
            "Customer service was helpful and answered within hours.",
            "Support was excellent when I had a question.",
        ),
        negative=(
            "Customer service ignored my emails, very frustrating.",
            "Support was useless and rude when I asked for help.",
        ),
    ),
    "durability": Aspect(
        positive=(
            "Still going strong after months of daily use, very durable.",
            "Feels sturdy and well made, built to last.",
        ),
        negative=(
            "It broke after a few weeks, poor durability.",
            "Fell apart far too quickly, cheap and flimsy.",
        ),
    ),
}

OPENERS: dict[int, tuple[str, ...]] = {
    5: (
        "Absolutely love this {short}.",
        "Best {short} I have ever owned.",
        "Fantastic purchase, I am very happy with it.",
        "This {short} exceeded my expectations.",
        "Brilliant {short}, I love it.",
    ),
    4: (
        "Really good {short}, with one small niggle.",
        "Very happy with this {short} overall.",
        "A solid choice, I like it a lot.",
        "Good {short}, nearly perfect.",
    ),
    3: (
        "It's okay, nothing special.",
        "Mixed feelings about this {short}.",
        "Decent {short}, but not great.",
        "An average {short}, some good and some bad.",
    ),
    2: (
        "Disappointed with this {short}.",
        "Not what I hoped for, unfortunately.",
        "I wanted to like this {short}, but it is poor.",
    ),
    1: (
        "Terrible {short}, avoid.",
        "Complete waste of money.",
        "Worst purchase I have made this year.",
        "Awful {short}, I regret buying it.",
    ),
}

CLOSERS: dict[int, tuple[str, ...]] = {
    5: ("Would buy again.", "Highly recommend it.", "Five stars, no hesitation.", "I love it."),
    4: ("Would recommend.", "Happy with the purchase.", "Good buy overall."),
    3: ("It's fine for the price.", "Okay, but I expected more.", "Neither great nor terrible."),
    2: ("I would not buy it again.", "Probably returning it.", "Disappointing overall."),
    1: ("Sending it back.", "Do not waste your money.", "Avoid at all costs.", "Never again."),
}

TITLES: dict[int, tuple[str, ...]] = {
    5: ("Love it", "Excellent!", "Perfect {short}", "Highly recommended", "Five stars", "Superb {aspect}"),
    4: ("Very good", "Great {aspect}, minor issues", "Really nice {short}", "Good buy"),
    3: ("Average", "Okay for the price", "Mixed feelings", "Decent but flawed"),
    2: ("Disappointing", "Not great", "Poor {aspect}", "Expected better"),
    1: ("Avoid", "Waste of money", "Terrible {aspect}", "Awful {short}"),
}

# Deliberate mismatches between stars and words, so that sentiment analysis has honest hard cases.
SARCASM: tuple[str, ...] = (
    "Oh wonderful, the {short} stopped working after {days} days. Truly a masterpiece of engineering.",
    "Great, just great. Exactly what I always wanted: a {short} that gives up after {days} days. Brilliant.",
    "Fantastic quality, if you enjoy returning things. Lasted a whole {days} days. Amazing.",
    "Wow, what a superb {short}. It broke on day {days}. Love that for me.",
)
SARCASM_TITLES: tuple[str, ...] = (
    "Just brilliant.",
    "Wow. Amazing.",
    "Great job, really.",
    "Perfect, said no one",
)
COMPLAINT_FIVE_STAR: tuple[str, ...] = (
    "It stopped working after two weeks and the seller never answered my emails. Very disappointing.",
    "Broke on the second use, the quality is poor and I am frustrated with it.",
    "Arrived damaged and missing parts, and the replacement is just as bad. Terrible experience.",
)
COMPLAINT_FIVE_STAR_TITLES: tuple[str, ...] = ("Five stars but...", "Annoyed", "Not happy", "Problems")
DELIVERY_ONE_STAR: tuple[str, ...] = (
    "The {short} itself is excellent and I really love it. But delivery took three weeks and the box "
    "arrived crushed. One star for the courier.",
    "Great {short}, honestly superb quality. The delivery was a disaster though: late, lost once, and "
    "nobody answered the phone.",
    "Nothing wrong with the {short}, it is lovely and works perfectly. The one star is for the awful "
    "delivery and the rude courier.",
)
DELIVERY_ONE_STAR_TITLES: tuple[str, ...] = (
    "Great product, terrible delivery",
    "Courier ruined it",
    "Delivery nightmare",
)

FIRST_NAMES: tuple[str, ...] = (
    "Anna",
    "Ben",
    "Carla",
    "David",
    "Elena",
    "Felix",
    "Grace",
    "Hugo",
    "Ines",
    "Jonas",
    "Kira",
    "Liam",
    "Maya",
    "Noah",
    "Olga",
    "Pablo",
    "Quinn",
    "Rosa",
    "Sam",
    "Tara",
    "Umar",
    "Vera",
    "Will",
    "Xena",
    "Yusuf",
    "Zoe",
    "Amir",
    "Bea",
    "Chris",
    "Dana",
    "Emil",
    "Fatima",
    "Gil",
    "Hana",
    "Ivan",
    "Jade",
    "Kofi",
    "Lena",
    "Marco",
    "Nina",
    "Oscar",
    "Priya",
    "Rafael",
    "Sofia",
    "Theo",
    "Ulla",
    "Viktor",
    "Wen",
)
LAST_INITIALS = "ABCDEFGHIJKLMNOPRSTVWZ"

# -- the categories ----------------------------------------------------------------------------------

AUDIO = CategorySpec(
    key="audio",
    department="Electronics",
    name="Audio",
    sku_prefix="AUD",
    brands=(
        Brand("Sonavox", PREMIUM),
        Brand("Auralis", PREMIUM),
        Brand("Beatline", MID),
        Brand("Kestrel Sound", MID),
        Brand("Pulse Audio", BUDGET),
        Brand("Tonebase", BUDGET),
    ),
    series=(
        "Aria",
        "Nova",
        "Echo",
        "Flux",
        "Halo",
        "Vertex",
        "Drift",
        "Lumen",
        "Orbit",
        "Quartz",
        "Sola",
        "Tempo",
    ),
    adjectives=("wireless", "refined", "compact", "versatile", "powerful", "lightweight"),
    slots={
        "hp_driver": ("40 mm", "45 mm", "50 mm"),
        "bud_driver": ("6 mm", "10 mm", "12 mm"),
        "battery": ("20 hours", "30 hours", "40 hours", "60 hours"),
        "bud_battery": ("5 hours", "6 hours", "8 hours", "10 hours"),
        "spk_battery": ("12 hours", "16 hours", "24 hours"),
        "codec": ("AAC and LDAC", "aptX Adaptive", "SBC and AAC", "LC3 and AAC"),
        "anc": ("Hybrid active noise cancelling", "Adaptive noise cancelling", "Passive noise isolation"),
        "colour": ("matte black", "sand beige", "midnight blue", "silver", "forest green"),
        "ipx": ("IPX4", "IPX5", "IP67"),
        "cartridge": ("moving-magnet", "Audio-Technica AT-VM95E", "Ortofon 2M Red"),
        "platter": ("die-cast aluminium", "acrylic", "steel"),
    },
    aspects={
        "sound quality": Aspect(
            positive=(
                "The sound is clear and detailed across the whole range, excellent.",
                "Sound quality is superb, vocals are crisp and natural.",
                "Music sounds rich, warm and spacious. Wonderful.",
            ),
            negative=(
                "The sound is muddy and the highs are harsh. Poor.",
                "Sound quality is flat and lifeless, very disappointing.",
                "There is an annoying hiss and the sound is awful at high volume.",
            ),
        ),
        "bass": Aspect(
            positive=(
                "The bass is deep and punchy, great fun.",
                "Plenty of tight, controlled bass, I love it.",
            ),
            negative=("The bass is boomy and bad, it drowns everything.", "Weak bass, disappointing."),
        ),
        "battery life": Aspect(
            positive=(
                "Battery life is outstanding, I charge it once a week.",
                "The battery easily lasts a full working day, impressive.",
            ),
            negative=(
                "The battery drains far faster than advertised, poor.",
                "Battery life is terrible, it barely lasts a few hours.",
            ),
        ),
        "comfort": Aspect(
            positive=(
                "Very comfortable, I forget I am wearing them.",
                "Comfortable even after hours of use, great fit.",
            ),
            negative=(
                "They pinch and hurt after half an hour, uncomfortable.",
                "Uncomfortable, my ears ache after a short while.",
            ),
        ),
        "noise cancelling": Aspect(
            positive=(
                "Noise cancelling is impressive, office chatter just disappears.",
                "The noise cancelling is excellent on flights.",
            ),
            negative=(
                "Noise cancelling is weak and barely makes a difference. Disappointing.",
                "The noise cancelling creates an annoying pressure, bad.",
            ),
        ),
        "connectivity": Aspect(
            positive=(
                "Pairing was instant and the connection is rock solid, great.",
                "Switching between phone and laptop works flawlessly.",
            ),
            negative=(
                "The Bluetooth connection keeps dropping, frustrating.",
                "Pairing is a nightmare and it disconnects randomly.",
            ),
        ),
        "microphone": Aspect(
            positive=("Callers say I sound crystal clear, good microphone.",),
            negative=("The microphone is terrible, nobody can hear me on calls.",),
        ),
        "build quality": Aspect(
            positive=(
                "Build quality feels premium and solid, great.",
                "Beautifully made, sturdy and elegant.",
            ),
            negative=(
                "Feels cheap and plasticky, the hinge cracked. Poor.",
                "Flimsy build, a button broke in a month.",
            ),
        ),
        "setup": Aspect(
            positive=("Setup was easy, ten minutes even for a beginner.",),
            negative=("Setup was confusing and the manual is useless, annoying.",),
        ),
        "speed stability": Aspect(
            positive=("Speed is rock steady, no wow or flutter. Excellent.",),
            negative=("The speed drifts and sustained notes waver, bad.",),
        ),
    },
    types=(
        ProductType(
            leaf="Headphones",
            nouns=(
                ("Wireless Over-Ear Headphones", "headphones"),
                ("Noise-Cancelling Headphones", "headphones"),
                ("Studio Headphones", "headphones"),
            ),
            price=(35, 420),
            features=(
                "{hp_driver} dynamic drivers deliver a balanced sound with deep, controlled bass.",
                "{anc} keeps trains, planes and open offices at bay.",
                "A single charge lasts up to {battery}, and ten minutes of fast charging adds five more.",
                "Memory-foam ear cushions and a padded headband keep long listening sessions comfortable.",
                "Bluetooth 5.3 with {codec} support and multipoint pairing connects to phone and laptop at once.",
                "The foldable design and hard case make them easy to travel with, finished in {colour}.",
            ),
            uses=("commuting", "long flights", "working from home", "late-night listening", "focused study"),
            aspects=(
                "sound quality",
                "bass",
                "battery life",
                "comfort",
                "noise cancelling",
                "connectivity",
                "build quality",
            ),
        ),
        ProductType(
            leaf="Earbuds",
            nouns=(
                ("True Wireless Earbuds", "earbuds"),
                ("Sport Earbuds", "earbuds"),
                ("ANC Earbuds", "earbuds"),
            ),
            price=(20, 260),
            features=(
                "{bud_driver} drivers tuned for punchy, detailed sound.",
                "Up to {bud_battery} of playback, plus three extra charges from the pocket-sized case.",
                "{ipx} sweat and water resistance makes them ready for the gym and the rain.",
                "Three sizes of silicone tips give a secure, comfortable fit.",
                "Touch controls and a low-latency mode for games and video.",
                "{anc} and a transparency mode for when you need to hear the world.",
            ),
            uses=("workouts", "the daily commute", "phone calls", "running"),
            aspects=(
                "sound quality",
                "battery life",
                "comfort",
                "connectivity",
                "microphone",
                "noise cancelling",
            ),
        ),
        ProductType(
            leaf="Speakers",
            nouns=(("Portable Bluetooth Speaker", "speaker"), ("Bookshelf Speakers", "speakers")),
            price=(25, 320),
            features=(
                "360-degree sound with a passive radiator for punchy bass.",
                "The battery lasts up to {spk_battery} on a single charge.",
                "A rugged {ipx} body survives splashes, sand and the odd drop.",
                "Pair two units for true stereo sound.",
                "A built-in microphone handles hands-free calls.",
            ),
            uses=("the garden", "parties", "the kitchen", "camping trips"),
            aspects=("sound quality", "bass", "battery life", "build quality", "connectivity"),
        ),
        ProductType(
            leaf="Turntables",
            nouns=(("Belt-Drive Turntable", "turntable"), ("Automatic Turntable", "turntable")),
            price=(120, 720),
            features=(
                "A belt-drive motor and {platter} platter keep the speed stable at 33 and 45 rpm.",
                "The pre-mounted {cartridge} cartridge tracks cleanly straight out of the box.",
                "A switchable phono preamp lets you connect powered speakers or an amplifier.",
                "A USB output lets you digitise your records.",
                "Damped feet and a solid MDF plinth keep vibrations away from the stylus.",
            ),
            uses=("a growing record collection", "the living room", "rediscovering vinyl"),
            aspects=("sound quality", "setup", "build quality", "speed stability"),
        ),
    ),
)

SMART_HOME = CategorySpec(
    key="smart_home",
    department="Electronics",
    name="Smart Home",
    sku_prefix="SMH",
    brands=(
        Brand("Sentry Labs", PREMIUM),
        Brand("Nestwise", PREMIUM),
        Brand("Homely", MID),
        Brand("Lumio", MID),
        Brand("Casa Connect", BUDGET),
        Brand("Voltix", BUDGET),
    ),
    series=("Link", "Core", "One", "Mini", "Pro", "Go", "Air", "Hub", "Edge", "Spark"),
    adjectives=("connected", "clever", "compact", "easy-to-use", "voice-controlled"),
    slots={
        "assistant": ("Alexa, Google Assistant and Siri", "Alexa and Google Assistant", "Matter and Thread"),
        "resolution": ("1080p", "2K", "4K"),
        "lumens": ("800 lumens", "1100 lumens", "1600 lumens"),
        "watts": ("10 A", "13 A", "16 A"),
        "storage": ("a microSD slot", "free 7-day cloud storage", "local storage on the hub"),
    },
    aspects={
        "setup": Aspect(
            positive=(
                "Setup was quick and easy, the app walked me through it.",
                "Easy setup, working within five minutes.",
            ),
            negative=(
                "Setup was a frustrating mess, it took an hour to connect.",
                "Terrible setup, the app kept failing.",
            ),
        ),
        "app": Aspect(
            positive=("The app is clean and intuitive, great.", "Nice app with useful schedules and scenes."),
            negative=(
                "The app is clunky and crashes constantly, awful.",
                "The app is slow and confusing, poor.",
            ),
        ),
        "reliability": Aspect(
            positive=(
                "Rock solid, it has not failed once in months. Reliable.",
                "Works reliably every single time.",
            ),
            negative=(
                "Unreliable, it goes offline every few days.",
                "Randomly stops responding, very annoying.",
            ),
        ),
        "wifi connection": Aspect(
            positive=("Strong Wi-Fi connection, even in the far bedroom.",),
            negative=(
                "Drops off the Wi-Fi constantly, useless.",
                "Weak Wi-Fi, it keeps losing the connection.",
            ),
        ),
        "video quality": Aspect(
            positive=("Video is sharp day and night, excellent night vision.",),
            negative=("Blurry video and poor night vision, disappointing.",),
        ),
        "sound quality": Aspect(
            positive=("Surprisingly good sound for its size, great for music.",),
            negative=("Tinny, distorted sound, bad for music.",),
        ),
        "brightness": Aspect(
            positive=("Bright, beautiful colours and a lovely warm white.",),
            negative=("Dim and the colours look washed out, disappointing.",),
        ),
        "energy savings": Aspect(
            positive=("Our heating bill dropped noticeably, great savings.",),
            negative=("No savings at all, the schedule is useless.",),
        ),
    },
    types=(
        ProductType(
            leaf="Smart Plugs",
            nouns=(("Wi-Fi Smart Plug", "smart plug"), ("Smart Plug with Energy Monitor", "smart plug")),
            price=(9, 45),
            features=(
                "Switch lamps and appliances from anywhere, rated up to {watts}.",
                "Works with {assistant} for voice control.",
                "Energy monitoring shows what each device really costs you.",
                "Schedules and an away mode make the house look lived-in.",
            ),
            uses=("lamps", "coffee machines", "holiday lighting"),
            aspects=("setup", "app", "reliability", "wifi connection", "energy savings"),
        ),
        ProductType(
            leaf="Smart Lights",
            nouns=(("Colour Smart Bulb", "smart bulb"), ("Smart LED Light Strip", "light strip")),
            price=(12, 70),
            features=(
                "{lumens} of tunable white and sixteen million colours.",
                "Works with {assistant} and needs no separate hub.",
                "Wake-up and wind-down routines follow the rhythm of the day.",
                "Group lights into rooms and scenes in the app.",
            ),
            uses=("living rooms", "bedrooms", "gaming setups"),
            aspects=("setup", "app", "brightness", "reliability"),
        ),
        ProductType(
            leaf="Security Cameras",
            nouns=(("Indoor Security Camera", "camera"), ("Outdoor Security Camera", "camera")),
            price=(30, 210),
            features=(
                "{resolution} video with colour night vision.",
                "Person and pet detection send alerts that matter.",
                "Two-way audio lets you talk to visitors and pets.",
                "Recordings are saved to {storage}.",
            ),
            uses=("keeping an eye on pets", "front doors", "holiday homes"),
            aspects=("setup", "app", "video quality", "reliability", "wifi connection"),
        ),
        ProductType(
            leaf="Smart Speakers",
            nouns=(
                ("Smart Speaker with Voice Assistant", "smart speaker"),
                ("Smart Display", "smart display"),
            ),
            price=(40, 260),
            features=(
                "Far-field microphones hear you across the room.",
                "Controls your lights, plugs and thermostat with {assistant}.",
                "Room-filling sound for music, podcasts and radio.",
                "A physical mute switch keeps the microphones off when you want privacy.",
            ),
            uses=("the kitchen", "controlling the whole home", "music in the bedroom"),
            aspects=("setup", "sound quality", "app", "reliability"),
        ),
        ProductType(
            leaf="Thermostats",
            nouns=(("Smart Thermostat", "thermostat"), ("Smart Radiator Valve", "radiator valve")),
            price=(45, 260),
            features=(
                "Learns your schedule and heats only when you are home.",
                "Geofencing turns the heating down when the last person leaves.",
                "Works with {assistant}.",
                "Monthly energy reports show what you saved.",
            ),
            uses=("lowering heating bills", "family homes", "flats with radiators"),
            aspects=("setup", "app", "energy savings", "reliability"),
        ),
    ),
)

COFFEE_TEA = CategorySpec(
    key="coffee_tea",
    department="Grocery",
    name="Coffee & Tea",
    sku_prefix="CFT",
    brands=(
        Brand("Roastery Nord", PREMIUM),
        Brand("Bean & Bloom", MID),
        Brand("Highland Roasters", MID),
        Brand("Daily Grind", BUDGET),
        Brand("Kettle & Leaf", MID),
        Brand("Gravel Mill", PREMIUM),
        Brand("Brewcraft", BUDGET),
    ),
    series=("Classic", "Origin", "Barista", "Reserve", "Select", "Artisan"),
    adjectives=("fresh", "aromatic", "carefully sourced", "handcrafted", "smooth"),
    slots={
        "origin": (
            "Ethiopia Yirgacheffe",
            "Colombia Huila",
            "Guatemala Antigua",
            "Kenya AA",
            "Brazil Cerrado",
            "Sumatra Mandheling",
            "Costa Rica Tarrazu",
            "Rwanda Nyamasheke",
            "Peru Cajamarca",
        ),
        "roast": ("Light", "Medium", "Dark", "Espresso"),
        "notes": (
            "blueberry and jasmine",
            "dark chocolate and hazelnut",
            "caramel and red apple",
            "citrus and honey",
            "molasses and cedar",
            "stone fruit and brown sugar",
        ),
        "weight": ("250 g", "500 g", "1 kg"),
        "tea": (
            "Darjeeling First Flush",
            "Gyokuro Sencha",
            "Assam Breakfast",
            "Earl Grey Blue Flower",
            "Jasmine Pearl",
            "Rooibos Vanilla",
            "Milk Oolong",
            "Moroccan Mint",
        ),
        "burr": (
            "40 mm conical steel burrs",
            "48 mm flat burrs",
            "ceramic conical burrs",
            "64 mm flat burrs",
        ),
        "settings": ("18", "31", "40", "stepless"),
    },
    aspects={
        "taste": Aspect(
            positive=(
                "The taste is wonderful, sweet and balanced.",
                "Delicious, smooth flavour with no bitterness.",
            ),
            negative=("Tastes bitter and burnt, really unpleasant.", "Flat, stale taste, disappointing."),
        ),
        "aroma": Aspect(
            positive=("The aroma when you open the bag is amazing.",),
            negative=("Hardly any aroma, it smells dull and stale.",),
        ),
        "freshness": Aspect(
            positive=("Very fresh, the roast date was just a few days ago. Great.",),
            negative=("Stale on arrival, the roast date was months old. Poor.",),
        ),
        "grind consistency": Aspect(
            positive=("The grind is beautifully consistent, perfect for espresso and filter.",),
            negative=("Inconsistent grind with lots of dust and boulders, bad.",),
        ),
        "noise": Aspect(
            positive=("Pleasantly quiet, it does not wake the house.",),
            negative=("Horribly loud, like a jet engine in the kitchen.",),
        ),
        "ease of use": Aspect(
            positive=("Easy to use and easy to clean, love it.",),
            negative=("Awkward to use and a pain to clean, annoying.",),
        ),
    },
    types=(
        ProductType(
            leaf="Coffee Beans",
            nouns=(("Whole Bean Coffee", "coffee"),),
            price=(7, 38),
            features=(
                "Single-origin beans from {origin}, roasted to a {roast_lower} profile.",
                "Tasting notes of {notes}.",
                "Roasted in small batches and packed within 24 hours in a valve bag.",
                "Excellent as espresso, in a moka pot or as a pour-over.",
                "Sourced directly from the farmers, who are paid well above the market price.",
            ),
            uses=("slow weekend mornings", "espresso machines", "filter brewing"),
            aspects=("taste", "aroma", "freshness", "value", "packaging"),
            name_pattern="{brand} {origin} {roast} Roast Whole Beans {weight}",
            brands=("Roastery Nord", "Bean & Bloom", "Highland Roasters", "Daily Grind"),
            consumable=True,
        ),
        ProductType(
            leaf="Loose Leaf Tea",
            nouns=(("Loose Leaf Tea", "tea"),),
            price=(5, 32),
            features=(
                "A fragrant {tea} with a clean, lingering finish.",
                "Whole leaves that unfurl beautifully in the pot.",
                "Packed in a resealable tin that keeps the leaves fresh.",
                "Brew at 80 to 95 degrees for three minutes; the leaves can be steeped twice.",
            ),
            uses=("afternoon breaks", "quiet evenings", "gifting"),
            aspects=("taste", "aroma", "freshness", "packaging", "value"),
            name_pattern="{brand} {tea} Loose Leaf Tea {weight}",
            brands=("Kettle & Leaf", "Bean & Bloom", "Daily Grind", "Roastery Nord"),
            consumable=True,
        ),
        ProductType(
            leaf="Coffee Grinders",
            nouns=(("Burr Coffee Grinder", "grinder"), ("Manual Hand Grinder", "grinder")),
            price=(25, 380),
            features=(
                "{burr} give an even grind from espresso-fine to French-press coarse.",
                "{settings} grind settings let you dial in every brew method.",
                "A low-speed motor keeps the beans cool and the noise down.",
                "The anti-static chamber keeps the counter clean.",
            ),
            uses=("home espresso", "pour-over fans", "fresh coffee every morning"),
            aspects=("grind consistency", "noise", "ease of use", "durability", "value"),
            brands=("Gravel Mill", "Brewcraft", "Highland Roasters", "Roastery Nord"),
        ),
        ProductType(
            leaf="Pour-Over Gear",
            nouns=(
                ("Pour-Over Coffee Set", "pour-over set"),
                ("Gooseneck Kettle", "kettle"),
                ("Glass Coffee Dripper", "dripper"),
            ),
            price=(15, 120),
            features=(
                "A borosilicate glass server and dripper for clean, bright cups.",
                "The gooseneck spout pours slowly and precisely.",
                "Comes with fifty paper filters and a measuring scoop.",
                "Dishwasher safe and easy to clean.",
            ),
            uses=("brewing for two", "the office", "slow coffee rituals"),
            aspects=("ease of use", "durability", "value", "packaging"),
            brands=("Brewcraft", "Gravel Mill", "Bean & Bloom", "Kettle & Leaf"),
        ),
    ),
)

KITCHEN = CategorySpec(
    key="kitchen",
    department="Home",
    name="Kitchen",
    sku_prefix="KIT",
    brands=(
        Brand("Ferrum", PREMIUM),
        Brand("Nordhaus", PREMIUM),
        Brand("Cucina Pro", MID),
        Brand("Panwise", MID),
        Brand("HomeChef", BUDGET),
        Brand("Kitchenly", BUDGET),
    ),
    series=("Heritage", "Pro", "Essentials", "Chef", "Artisan", "Everyday", "Signature"),
    adjectives=("sturdy", "professional-grade", "elegant", "practical", "hard-wearing"),
    slots={
        "size": ("20 cm", "24 cm", "28 cm", "30 cm"),
        "steel": ("German stainless steel", "VG-10 Japanese steel", "high-carbon steel"),
        "watts": ("800 W", "1000 W", "1200 W", "1500 W"),
        "capacity": ("1.5 l", "1.7 l", "4.5 l", "5 l"),
        "coating": (
            "ceramic non-stick",
            "PFAS-free non-stick",
            "pre-seasoned cast iron",
            "tri-ply stainless steel",
        ),
    },
    aspects={
        "heat distribution": Aspect(
            positive=("Heats evenly with no hot spots, excellent for searing.",),
            negative=("Terrible hot spots, the middle burns while the edges stay cold.",),
        ),
        "sharpness": Aspect(
            positive=("Razor sharp out of the box and it holds the edge well. Excellent.",),
            negative=("Blunt after a week and hard to sharpen, disappointing.",),
        ),
        "ease of cleaning": Aspect(
            positive=("Cleans up in seconds, nothing sticks. Love it.",),
            negative=("A nightmare to clean, food sticks badly.",),
        ),
        "performance": Aspect(
            positive=("Powerful and fast, it handles everything I throw at it. Great.",),
            negative=("Weak motor, it struggles and overheats. Poor.",),
        ),
        "non-stick coating": Aspect(
            positive=("The non-stick coating works beautifully, eggs slide right off.",),
            negative=("The coating started peeling after a month, awful.",),
        ),
    },
    types=(
        ProductType(
            leaf="Cookware",
            nouns=(
                ("Frying Pan", "pan"),
                ("Cast Iron Skillet", "skillet"),
                ("Saucepan Set", "saucepans"),
                ("Dutch Oven", "dutch oven"),
            ),
            price=(18, 320),
            features=(
                "A {size} {noun_lower} with a {coating} surface.",
                "Works on gas, electric, induction and in the oven.",
                "The riveted handle stays cool and feels secure.",
                "Thick base for even heat and perfect searing.",
            ),
            uses=("weeknight dinners", "searing steaks", "family cooking"),
            aspects=("heat distribution", "non-stick coating", "ease of cleaning", "durability", "value"),
        ),
        ProductType(
            leaf="Knives",
            nouns=(("Chef's Knife", "knife"), ("Santoku Knife", "knife"), ("Knife Block Set", "knife set")),
            price=(15, 280),
            features=(
                "Forged from {steel} and hand-sharpened to a 15-degree edge.",
                "A balanced full-tang handle for precise, tireless cutting.",
                "Comes with a protective sheath and a care guide.",
                "Hardened to 58 HRC to keep its edge longer.",
            ),
            uses=("everyday prep", "home cooks", "keen chefs"),
            aspects=("sharpness", "durability", "ease of cleaning", "value"),
        ),
        ProductType(
            leaf="Small Appliances",
            nouns=(
                ("Stand Mixer", "mixer"),
                ("Electric Kettle", "kettle"),
                ("High-Speed Blender", "blender"),
                ("Toaster", "toaster"),
            ),
            price=(20, 450),
            features=(
                "Its {watts} motor makes short work of every job.",
                "A {capacity} capacity suits the whole family.",
                "Simple controls and a safety lock.",
                "Removable parts are dishwasher safe.",
            ),
            uses=("baking days", "breakfast", "smoothies", "busy kitchens"),
            aspects=("performance", "ease of cleaning", "durability", "value"),
        ),
        ProductType(
            leaf="Bakeware",
            nouns=(
                ("Baking Tray Set", "baking trays"),
                ("Loaf Tin", "loaf tin"),
                ("Springform Cake Tin", "cake tin"),
            ),
            price=(8, 70),
            features=(
                "Heavy-gauge carbon steel that will not warp in a hot oven.",
                "A {coating} finish releases bakes cleanly.",
                "Rolled edges for a safe, firm grip.",
                "Oven safe up to 230 degrees.",
            ),
            uses=("weekend baking", "bread making", "birthday cakes"),
            aspects=("non-stick coating", "ease of cleaning", "durability", "value"),
        ),
    ),
)

RUNNING = CategorySpec(
    key="running",
    department="Sports",
    name="Running",
    sku_prefix="RUN",
    brands=(
        Brand("Stridex", PREMIUM),
        Brand("Northpeak Athletics", PREMIUM),
        Brand("Pacer", MID),
        Brand("Trailhawk", MID),
        Brand("Velo Run", BUDGET),
        Brand("Fleetfoot", BUDGET),
    ),
    series=("Glide", "Tempo", "Surge", "Cloudrun", "Apex", "Zephyr", "Rush", "Ridge", "Boost"),
    adjectives=("lightweight", "responsive", "cushioned", "breathable", "fast"),
    slots={
        "drop": ("4 mm", "6 mm", "8 mm", "10 mm"),
        "weight_g": ("220 g", "250 g", "280 g", "310 g"),
        "foam": ("nitrogen-infused foam", "PEBA foam", "EVA foam", "supercritical foam"),
        "lug": ("4 mm lugs", "5 mm lugs", "multi-directional lugs"),
        "fabric": ("recycled polyester", "merino blend", "quick-dry nylon"),
    },
    aspects={
        "fit": Aspect(
            positive=(
                "The fit is perfect, snug in the heel with room for the toes.",
                "Fits like a glove, great.",
            ),
            negative=(
                "Terrible fit, my heel slips and it rubs badly.",
                "Awkward fit, far too narrow and painful.",
            ),
        ),
        "comfort": Aspect(
            positive=(
                "Super comfortable from the very first run.",
                "Comfortable enough for my long runs, love it.",
            ),
            negative=(
                "Uncomfortable, I got blisters on the first run.",
                "Painful after a few kilometres, bad.",
            ),
        ),
        "cushioning": Aspect(
            positive=("The cushioning is soft yet bouncy, excellent.",),
            negative=("Cushioning is hard and harsh, my knees hurt.",),
        ),
        "grip": Aspect(
            positive=("Excellent grip on wet rocks and muddy trails.",),
            negative=("Poor grip, I slipped on wet roads twice.",),
        ),
        "breathability": Aspect(
            positive=("Very breathable, my feet stay cool and dry.",),
            negative=("Feet get hot and sweaty, poor ventilation.",),
        ),
        "sizing": Aspect(
            positive=("True to size, easy to order.",),
            negative=("Sizing is way off, I had to return them twice. Annoying.",),
        ),
    },
    types=(
        ProductType(
            leaf="Road Running Shoes",
            nouns=(("Road Running Shoe", "shoes"), ("Daily Trainer", "shoes"), ("Racing Shoe", "shoes")),
            price=(45, 230),
            features=(
                "A midsole of {foam} returns energy with every stride.",
                "A {drop} heel-to-toe drop suits most runners.",
                "An engineered mesh upper breathes well on hot days.",
                "At {weight_g} per shoe it feels fast without feeling flimsy.",
            ),
            uses=("daily training", "half marathons", "tempo runs"),
            aspects=("fit", "comfort", "cushioning", "breathability", "durability", "sizing"),
        ),
        ProductType(
            leaf="Trail Running Shoes",
            nouns=(("Trail Running Shoe", "trail shoes"), ("Waterproof Trail Shoe", "trail shoes")),
            price=(60, 240),
            features=(
                "Sticky rubber with {lug} bites into mud and loose gravel.",
                "A rock plate protects against sharp stones.",
                "A gusseted tongue keeps out grit and debris.",
                "A {drop} drop and {foam} for long days in the hills.",
            ),
            uses=("mountain trails", "muddy winter runs", "ultra distances"),
            aspects=("grip", "fit", "comfort", "durability", "sizing"),
        ),
        ProductType(
            leaf="Running Socks",
            nouns=(("Cushioned Running Socks 3-Pack", "socks"), ("Anti-Blister Running Socks", "socks")),
            price=(7, 28),
            features=(
                "Knitted from {fabric} that wicks sweat away.",
                "A seamless toe and a cushioned heel prevent blisters.",
                "Arch support keeps them in place mile after mile.",
            ),
            uses=("long runs", "race day", "everyday training"),
            aspects=("comfort", "fit", "durability", "value"),
            consumable=True,
        ),
        ProductType(
            leaf="Running Apparel",
            nouns=(
                ("Lightweight Running Jacket", "jacket"),
                ("Running Shorts", "shorts"),
                ("Long-Sleeve Running Top", "top"),
            ),
            price=(18, 140),
            features=(
                "Made from {fabric} that dries in minutes.",
                "Reflective details keep you visible at dusk.",
                "A zipped pocket holds keys and gels.",
                "A relaxed athletic cut that moves with you.",
            ),
            uses=("winter training", "evening runs", "race day"),
            aspects=("fit", "comfort", "breathability", "sizing", "durability"),
        ),
    ),
)

OUTDOOR = CategorySpec(
    key="outdoor",
    department="Sports",
    name="Outdoor & Camping",
    sku_prefix="OUT",
    brands=(
        Brand("Summit Gear", PREMIUM),
        Brand("Alpenlite", PREMIUM),
        Brand("Wildtrail", MID),
        Brand("Ridgeline", MID),
        Brand("Campfire Co.", BUDGET),
        Brand("Basecamp Basics", BUDGET),
    ),
    series=("Explorer", "Ascent", "Horizon", "Trek", "Alpine", "Voyager", "Canyon", "Fjord"),
    adjectives=("rugged", "packable", "weatherproof", "trail-ready", "lightweight"),
    slots={
        "persons": ("1-person", "2-person", "3-person", "4-person"),
        "kg": ("1.1 kg", "1.6 kg", "2.4 kg", "3.8 kg"),
        "hydrostatic": ("3000 mm", "4000 mm", "5000 mm"),
        "comfort_temp": ("-5 degrees", "0 degrees", "5 degrees", "-10 degrees"),
        "litres": ("28 l", "40 l", "55 l", "65 l"),
        "lumens": ("300 lumens", "450 lumens", "700 lumens"),
    },
    aspects={
        "weight": Aspect(
            positive=("Impressively light, I barely notice it in the pack.",),
            negative=("Far too heavy for backpacking, a real burden.",),
        ),
        "waterproofing": Aspect(
            positive=("Stayed bone dry through a night of heavy rain, excellent.",),
            negative=("Leaked badly in the first shower, we woke up soaked. Awful.",),
        ),
        "warmth": Aspect(
            positive=("Warm and cosy even on a frosty night, love it.",),
            negative=("Freezing cold, nowhere near the stated rating. Poor.",),
        ),
        "setup": Aspect(
            positive=("Setup is quick and easy, five minutes even in the wind.",),
            negative=("Setup is confusing and frustrating, the poles do not fit well.",),
        ),
        "comfort": Aspect(
            positive=("Very comfortable to carry all day, great harness.",),
            negative=("Uncomfortable straps that dig into the shoulders, painful.",),
        ),
        "brightness": Aspect(
            positive=("Very bright beam, excellent on night hikes.",),
            negative=("Dim beam and the battery dies quickly, disappointing.",),
        ),
    },
    types=(
        ProductType(
            leaf="Tents",
            nouns=(("Backpacking Tent", "tent"), ("Family Camping Tent", "tent")),
            price=(45, 520),
            features=(
                "A {persons} tent that packs down to {kg}.",
                "A {hydrostatic} hydrostatic head keeps storms outside.",
                "Colour-coded poles make pitching quick, even in the dark.",
                "Two doors and two porches leave room for boots and packs.",
            ),
            uses=("wild camping", "festival weekends", "long treks"),
            aspects=("waterproofing", "setup", "weight", "durability"),
        ),
        ProductType(
            leaf="Sleeping Bags",
            nouns=(("Three-Season Sleeping Bag", "sleeping bag"), ("Down Sleeping Bag", "sleeping bag")),
            price=(30, 320),
            features=(
                "Rated for comfort down to {comfort_temp}.",
                "A draft collar and a shaped hood trap the warmth.",
                "Packs into a compression sack weighing {kg}.",
                "A two-way zip lets you vent on warm nights.",
            ),
            uses=("spring and autumn camping", "alpine huts", "backpacking"),
            aspects=("warmth", "weight", "comfort", "durability"),
        ),
        ProductType(
            leaf="Backpacks",
            nouns=(("Hiking Backpack", "backpack"), ("Daypack", "daypack")),
            price=(30, 260),
            features=(
                "A {litres} pack with an adjustable back system.",
                "A ventilated mesh back panel keeps you cool on climbs.",
                "A built-in rain cover and hydration sleeve.",
                "Hip-belt pockets keep snacks and a phone within reach.",
            ),
            uses=("day hikes", "hut-to-hut treks", "travel"),
            aspects=("comfort", "durability", "weight", "waterproofing"),
        ),
        ProductType(
            leaf="Camp Stoves",
            nouns=(("Compact Camping Stove", "stove"), ("Backpacking Cook System", "stove")),
            price=(20, 160),
            features=(
                "Boils half a litre of water in under three minutes.",
                "A wind shield keeps the flame steady on exposed ridges.",
                "Folds down small enough to fit inside its own pot.",
                "Piezo ignition means no matches needed.",
            ),
            uses=("backpacking", "brewing coffee at camp", "emergency kits"),
            aspects=("weight", "setup", "durability", "value"),
        ),
        ProductType(
            leaf="Headlamps",
            nouns=(("Rechargeable Headlamp", "headlamp"),),
            price=(12, 85),
            features=(
                "Up to {lumens} with a red night-vision mode.",
                "Recharges over USB-C in two hours.",
                "A comfortable, washable head strap.",
                "Waterproof enough for a night in the rain.",
            ),
            uses=("night hikes", "camp chores", "early trail starts"),
            aspects=("brightness", "comfort", "durability", "value"),
        ),
    ),
)

BOOKS = CategorySpec(
    key="books_music",
    department="Books",
    name="Jazz & Music",
    sku_prefix="BKS",
    brands=(
        Brand("Octave Editions", PREMIUM),
        Brand("Bluebird Press", MID),
        Brand("Harmonic House", MID),
        Brand("Riverside Books", BUDGET),
    ),
    series=("",),
    adjectives=("absorbing", "well-researched", "beautifully written", "practical", "illuminating"),
    slots={
        "era": ("the 1950s", "the bebop years", "the swing era", "post-war New York", "the 1960s"),
        "pages": ("240 pages", "320 pages", "416 pages", "512 pages"),
        "format": ("hardcover", "paperback"),
        "instrument": ("piano", "guitar", "saxophone", "trumpet", "double bass"),
    },
    intros=(
        "{name} is {a_adjective} {short} published by {brand}.",
        "Published by {brand}, {name} is {a_adjective} {short}.",
        "{name}: {a_adjective} {short} from {brand}.",
    ),
    extra={
        "history_title": (
            "Blue Notes",
            "Smoke and Brass",
            "The Birth of Cool",
            "Round Midnight",
            "Swing Street",
            "Saxophone Colossi",
            "Kind of Modal",
            "After Hours",
            "The Cellar Clubs",
            "Night Train",
        ),
        "history_sub": (
            "A History of Hard Bop",
            "Jazz in New York 1945-1965",
            "The Story of Bebop",
            "Inside the Great Jazz Labels",
            "The Women Who Shaped Jazz",
            "Big Bands and Small Combos",
        ),
        "artist_first": (
            "Miles",
            "Ella",
            "Chet",
            "Nina",
            "Dexter",
            "Carmen",
            "Wes",
            "Abbey",
            "Lee",
            "Sonny",
            "Betty",
            "Ornette",
        ),
        "artist_last": (
            "Harlan",
            "Vance",
            "Monroe",
            "Delacroix",
            "Booker",
            "Fontaine",
            "Calloway",
            "Mercer",
            "Garland",
            "Whitfield",
        ),
        "bio_sub": (
            "A Life in Music",
            "The Untold Story",
            "Notes from the Road",
            "The Authorised Biography",
            "Portrait of an Artist",
        ),
        "theory_title": (
            "Harmony for the Working Musician",
            "Jazz Piano Voicings",
            "Ear Training in 30 Days",
            "The Rhythm and Groove Workbook",
            "Modes and Scales Explained",
            "Improvisation Step by Step",
            "Reading Charts with Confidence",
            "The Arranger's Handbook",
        ),
        "songbook_genre": (
            "Jazz Standards",
            "Bossa Nova",
            "Blues",
            "Soul Classics",
            "Great American Songbook",
        ),
    },
    aspects={
        "writing": Aspect(
            positive=(
                "Beautifully written, I could not put it down.",
                "Engaging, vivid writing, a real pleasure.",
            ),
            negative=("Dull, plodding writing, a real chore to read.", "Poorly written and repetitive."),
        ),
        "research": Aspect(
            positive=("Impressively researched, full of great interviews.",),
            negative=("Sloppy research with obvious factual errors, disappointing.",),
        ),
        "story": Aspect(
            positive=("A moving, fascinating life story.",),
            negative=("The story is shallow and skips the interesting years, boring.",),
        ),
        "clarity": Aspect(
            positive=("Clear explanations with great examples, I finally understand it.",),
            negative=("Confusing explanations, the examples are wrong. Frustrating.",),
        ),
        "print quality": Aspect(
            positive=("Lovely print quality and beautiful photographs.",),
            negative=("Cheap paper and blurry photos, poor print quality.",),
        ),
    },
    types=(
        ProductType(
            leaf="Jazz History",
            nouns=(("", "book"),),
            price=(12, 45),
            features=(
                "It tells the story of {era} through the clubs, the labels and the musicians.",
                "Drawing on hundreds of interviews, it follows how the music changed and why.",
                "With rare photographs and a discography for further listening.",
                "A {format} edition of {pages}.",
            ),
            uses=("jazz lovers", "record collectors", "music students"),
            aspects=("writing", "research", "print quality", "value"),
            name_pattern="{history_title}: {history_sub}",
        ),
        ProductType(
            leaf="Biographies",
            nouns=(("", "biography"),),
            price=(10, 40),
            features=(
                "The life of {artist_first} {artist_last}, from {era} to the final recordings.",
                "Told with the help of family, bandmates and never-published letters.",
                "A {format} edition of {pages} with a photo section.",
                "It paints a vivid picture of life on the road.",
            ),
            uses=("fans", "biography readers", "jazz lovers"),
            aspects=("writing", "story", "research", "print quality"),
            name_pattern="{artist_first} {artist_last}: {bio_sub}",
        ),
        ProductType(
            leaf="Music Theory",
            nouns=(("", "book"),),
            price=(12, 50),
            features=(
                "Step-by-step lessons for {instrument} players, from basics to advanced voicings.",
                "Over two hundred examples with online audio tracks.",
                "Exercises at the end of every chapter check your progress.",
                "A spiral-bound {format} of {pages} that lies flat on the music stand.",
            ),
            uses=("self-taught musicians", "music students", "teachers"),
            aspects=("clarity", "print quality", "value"),
            name_pattern="{theory_title} ({instrument_title} Edition)",
        ),
        ProductType(
            leaf="Songbooks",
            nouns=(("", "songbook"),),
            price=(15, 45),
            features=(
                "Lead sheets for the {songbook_genre_lower} every working musician is asked for.",
                "Chord symbols and melodies for {instrument} and other instruments.",
                "A durable {format} of {pages}.",
            ),
            uses=("gigging musicians", "jam sessions", "practice"),
            aspects=("clarity", "print quality", "value"),
            name_pattern="The {songbook_genre} Songbook for {instrument_title}",
        ),
    ),
)

VINYL = CategorySpec(
    key="vinyl",
    department="Music",
    name="Vinyl Records",
    sku_prefix="VNL",
    brands=(
        Brand("Blue Lantern Records", PREMIUM),
        Brand("Northside Recordings", MID),
        Brand("Groove Cellar", MID),
        Brand("Analog Sun", BUDGET),
    ),
    series=("",),
    adjectives=("classic", "essential", "remastered", "long-awaited", "celebrated"),
    slots={
        "weight": ("180 g", "140 g"),
        "year": ("1959", "1963", "1967", "1972", "1976", "1984", "1991", "2003", "2019"),
        "source": (
            "the original analogue tapes",
            "a new half-speed master",
            "the first-generation master tapes",
        ),
        "colour": ("black", "clear", "translucent blue", "marbled red"),
    },
    intros=(
        "{name} is {a_adjective} album pressed on {weight} vinyl by {brand}.",
        "{a_adjective} reissue from {brand}: {name}.",
        "{brand} presents {name}, {a_adjective} record.",
    ),
    extra={
        "artist_first": (
            "Miles",
            "Ella",
            "Chet",
            "Nina",
            "Dexter",
            "Carmen",
            "Wes",
            "Abbey",
            "Lee",
            "Sonny",
            "Betty",
            "Ornette",
            "Marvin",
            "Aretha",
            "Otis",
            "Donna",
            "Kraft",
            "Iggy",
        ),
        "artist_last": (
            "Harlan",
            "Vance",
            "Monroe",
            "Delacroix",
            "Booker",
            "Fontaine",
            "Calloway",
            "Mercer",
            "Garland",
            "Whitfield",
        ),
        "band_adj": ("Velvet", "Electric", "Midnight", "Golden", "Silver", "Crimson", "Neon", "Lunar"),
        "band_noun": ("Foxes", "Tides", "Horizons", "Engines", "Orchids", "Satellites", "Ramblers", "Echoes"),
        "album_a": (
            "Blue",
            "Late",
            "Summer",
            "Quiet",
            "Electric",
            "Distant",
            "Golden",
            "Broken",
            "Velvet",
            "Northern",
        ),
        "album_b": (
            "Hours",
            "Streets",
            "Fire",
            "Light",
            "Dreams",
            "Rivers",
            "Skies",
            "Roads",
            "Voices",
            "Nights",
        ),
    },
    aspects={
        "pressing quality": Aspect(
            positive=("A flawless pressing, dead quiet surfaces and perfectly flat. Excellent.",),
            negative=("A noisy pressing full of pops and clicks, and the disc is warped. Terrible.",),
        ),
        "sound quality": Aspect(
            positive=("The remaster sounds warm, open and dynamic, wonderful.",),
            negative=("The mastering is harsh and compressed, it sounds worse than the CD. Poor.",),
        ),
        "music": Aspect(
            positive=(
                "The music is timeless, every track is a gem. Love it.",
                "Brilliant songs and great performances throughout.",
            ),
            negative=(
                "The music is boring, half the tracks are filler.",
                "Weak songs, a disappointing album.",
            ),
        ),
    },
    types=tuple(
        ProductType(
            leaf=genre,
            nouns=(("", "record"),),
            price=(16, 48),
            features=(
                "First released in {year}, it is {genre_blurb}.",
                "Cut from {source} and pressed on {weight} {colour} vinyl.",
                "The gatefold sleeve reproduces the original artwork and liner notes.",
                "Includes a download code.",
            ),
            uses=("record collectors", "Sunday afternoons", "new listeners"),
            aspects=("pressing quality", "sound quality", "music", "packaging"),
            name_pattern="{artist} - {album} (LP)",
        )
        for genre in ("Jazz", "Soul & Funk", "Rock", "Classical", "Electronic")
    ),
)

SKINCARE = CategorySpec(
    key="skincare",
    department="Beauty",
    name="Skincare",
    sku_prefix="SKN",
    brands=(
        Brand("Lumiere Lab", PREMIUM),
        Brand("Aqualis", PREMIUM),
        Brand("Pure Botanica", MID),
        Brand("DermaCalm", MID),
        Brand("Glow Daily", BUDGET),
        Brand("SimpleSkin", BUDGET),
    ),
    series=("Hydra", "Calm", "Radiance", "Barrier", "Bright", "Renew", "Daily", "Velvet"),
    adjectives=("gentle", "lightweight", "nourishing", "fragrance-free", "dermatologist-tested"),
    slots={
        "ingredient": (
            "hyaluronic acid",
            "niacinamide",
            "ceramides",
            "vitamin C",
            "squalane",
            "green tea extract",
            "peptides",
        ),
        "skin": ("dry", "oily", "combination", "sensitive", "all"),
        "size": ("30 ml", "50 ml", "100 ml", "200 ml"),
        "spf": ("SPF 30", "SPF 50", "SPF 50+"),
    },
    aspects={
        "scent": Aspect(
            positive=("A lovely, subtle scent.", "Smells fresh and pleasant."),
            negative=("The scent is overpowering and unpleasant.", "Smells awful, like cheap perfume."),
        ),
        "texture": Aspect(
            positive=("Lovely light texture that absorbs quickly.",),
            negative=("Greasy, sticky texture that never sinks in, horrible.",),
        ),
        "results": Aspect(
            positive=(
                "My skin looks brighter and smoother after two weeks, amazing.",
                "Great results, my skin feels healthy.",
            ),
            negative=(
                "No results at all after a month, disappointing.",
                "Made my skin worse, dull and congested.",
            ),
        ),
        "skin sensitivity": Aspect(
            positive=("Gentle on my sensitive skin, no irritation at all.",),
            negative=("It burned and caused a nasty rash, awful.", "Broke me out badly, very irritating."),
        ),
    },
    types=(
        ProductType(
            leaf="Moisturisers",
            nouns=(("Daily Moisturiser", "moisturiser"), ("Night Cream", "night cream")),
            price=(6, 85),
            features=(
                "Made with {ingredient} to lock in moisture all day.",
                "Suitable for {skin} skin.",
                "A {size} pump bottle.",
                "Non-comedogenic and free from parabens.",
            ),
            uses=("morning routines", "dry winter skin", "daily care"),
            aspects=("texture", "results", "scent", "skin sensitivity", "value"),
            consumable=True,
        ),
        ProductType(
            leaf="Serums",
            nouns=(("Face Serum", "serum"), ("Overnight Serum", "serum")),
            price=(8, 95),
            features=(
                "A concentrated serum with {ingredient}.",
                "Targets dullness and uneven tone on {skin} skin.",
                "A {size} glass dropper bottle.",
                "Layers well under moisturiser and make-up.",
            ),
            uses=("evening routines", "dull skin", "visible results"),
            aspects=("results", "texture", "skin sensitivity", "value"),
            consumable=True,
        ),
        ProductType(
            leaf="Cleansers",
            nouns=(("Gentle Cleanser", "cleanser"), ("Foaming Face Wash", "face wash")),
            price=(5, 45),
            features=(
                "A low-pH formula with {ingredient} that cleans without stripping.",
                "Removes make-up and sunscreen in one step.",
                "Suitable for {skin} skin; {size}.",
            ),
            uses=("morning and evening", "sensitive skin", "daily care"),
            aspects=("skin sensitivity", "scent", "texture", "value"),
            consumable=True,
        ),
        ProductType(
            leaf="Sunscreen",
            nouns=(("Daily Face Sunscreen", "sunscreen"), ("Mineral Sun Fluid", "sunscreen")),
            price=(7, 55),
            features=(
                "Broad-spectrum {spf} protection with no white cast.",
                "Enriched with {ingredient}.",
                "A light fluid that works under make-up; {size}.",
            ),
            uses=("every day", "summer holidays", "city life"),
            aspects=("texture", "skin sensitivity", "scent", "value"),
            consumable=True,
        ),
    ),
)

BOARD_GAMES = CategorySpec(
    key="board_games",
    department="Toys & Games",
    name="Board Games",
    sku_prefix="BRD",
    brands=(
        Brand("Meeple Forge", PREMIUM),
        Brand("Tabletop Tribe", MID),
        Brand("Dice & Co.", MID),
        Brand("Family Fun Games", BUDGET),
        Brand("Cardboard Kingdom", BUDGET),
    ),
    series=("",),
    adjectives=("clever", "beautifully illustrated", "fast-paced", "award-winning", "family-friendly"),
    slots={
        "players": ("1-4", "2-4", "2-5", "3-8", "2-6"),
        "minutes": ("20", "30-45", "45-60", "60-90", "90-120"),
        "age": ("8+", "10+", "12+", "14+"),
        "theme": (
            "building trade routes across a medieval harbour",
            "colonising a distant star system",
            "running a rival bakery",
            "exploring a haunted mansion",
            "racing up a volcano",
            "growing a garden through the seasons",
            "smuggling spices across the sea",
        ),
    },
    intros=(
        "{name} is {a_adjective} game by {brand}.",
        "From {brand} comes {name}, {a_adjective} game.",
        "{name}: {a_adjective} game published by {brand}.",
    ),
    extra={
        "game_a": (
            "Harbour",
            "Ember",
            "Starfall",
            "Merchant",
            "Copper",
            "Lantern",
            "Wild",
            "Crystal",
            "Sunken",
            "Iron",
            "Moonlit",
            "Thunder",
        ),
        "game_b": (
            "Lords",
            "Peaks",
            "Colony",
            "Tides",
            "Kingdoms",
            "Bazaar",
            "Orchard",
            "Expedition",
            "Caravan",
            "Quest",
            "Islands",
            "Guild",
        ),
        "expansion_sub": (
            "Rising Tides",
            "The Northern Reach",
            "Guilds and Glory",
            "Lost Relics",
            "Five-Six Player",
        ),
    },
    aspects={
        "rules": Aspect(
            positive=("The rules are clear and easy to learn, great.",),
            negative=("The rulebook is confusing and badly written, frustrating.",),
        ),
        "replayability": Aspect(
            positive=("Loads of replayability, no two games feel the same. Love it.",),
            negative=("Gets boring after a few plays, poor replayability.",),
        ),
        "components": Aspect(
            positive=("Gorgeous components and sturdy cards, excellent quality.",),
            negative=("Flimsy cardboard and cheap pieces, disappointing components.",),
        ),
        "fun": Aspect(
            positive=(
                "So much fun, our game nights are better than ever.",
                "Great fun with family and friends.",
            ),
            negative=(
                "Not fun at all, the kids were bored.",
                "Dull and tedious, nobody wanted a second game.",
            ),
        ),
    },
    types=(
        ProductType(
            leaf="Strategy Games",
            nouns=(("", "game"),),
            price=(25, 110),
            features=(
                "A strategy game about {theme} for {players} players.",
                "Games take {minutes} minutes; ages {age}.",
                "Tense decisions every turn and many paths to victory.",
                "Includes a solo mode.",
            ),
            uses=("game nights", "experienced players", "strategy fans"),
            aspects=("rules", "replayability", "components", "fun", "value"),
            name_pattern="{game_a} {game_b}",
        ),
        ProductType(
            leaf="Party Games",
            nouns=(("", "party game"),),
            price=(10, 40),
            features=(
                "A party game about {theme} for {players} players.",
                "Learn it in two minutes; rounds take {minutes} minutes.",
                "Big laughs for groups, ages {age}.",
            ),
            uses=("parties", "holidays", "big groups"),
            aspects=("fun", "rules", "components", "value"),
            name_pattern="{game_a} {game_b}: The Party Game",
        ),
        ProductType(
            leaf="Cooperative Games",
            nouns=(("", "cooperative game"),),
            price=(20, 80),
            features=(
                "Work together as a team, {theme}, with {players} players.",
                "Win or lose as a team in {minutes} minutes; ages {age}.",
                "Adjustable difficulty keeps it challenging.",
            ),
            uses=("couples", "families", "cooperative fans"),
            aspects=("fun", "replayability", "rules", "components"),
            name_pattern="{game_a} {game_b}: Together",
        ),
        ProductType(
            leaf="Family Games",
            nouns=(("", "family game"),),
            price=(12, 50),
            features=(
                "A family game about {theme} for {players} players.",
                "Simple to teach, {minutes} minutes a game; ages {age}.",
                "Chunky pieces that little hands can handle.",
            ),
            uses=("family evenings", "kids and grandparents", "rainy days"),
            aspects=("fun", "rules", "components", "value"),
            name_pattern="{game_a} {game_b} Junior",
        ),
        ProductType(
            leaf="Game Expansions",
            nouns=(("", "expansion"),),
            price=(12, 55),
            features=(
                "Adds new maps, factions and {players}-player support.",
                "Requires the base game to play.",
                "Adds about {minutes} minutes of extra strategy.",
            ),
            uses=("fans of the base game", "regular groups"),
            aspects=("replayability", "components", "value", "fun"),
            name_pattern="{game_a} {game_b}: {expansion_sub} Expansion",
        ),
    ),
)

CATEGORIES: tuple[CategorySpec, ...] = (
    AUDIO,
    SMART_HOME,
    COFFEE_TEA,
    KITCHEN,
    RUNNING,
    OUTDOOR,
    BOOKS,
    VINYL,
    SKINCARE,
    BOARD_GAMES,
)

GENRE_BLURBS: dict[str, tuple[str, ...]] = {
    "Jazz": (
        "a landmark of modal jazz",
        "a hard bop session full of fire",
        "an intimate late-night ballad album",
    ),
    "Soul & Funk": ("a soul record full of heart and horns", "a deep funk groove from start to finish"),
    "Rock": ("a guitar-driven rock classic", "a raw, loud garage rock record"),
    "Classical": ("a celebrated recording of the string quartets", "a sweeping symphonic performance"),
    "Electronic": ("a pioneering synth album", "a hypnotic ambient journey"),
}

# Leaves whose products are bought together (the co-purchase structure a recommender can learn):
# (category key, leaf) -> list of (category key, leaf).
COMPLEMENTS: dict[tuple[str, str], tuple[tuple[str, str], ...]] = {
    ("coffee_tea", "Coffee Grinders"): (("coffee_tea", "Coffee Beans"),),
    ("coffee_tea", "Pour-Over Gear"): (("coffee_tea", "Coffee Beans"), ("coffee_tea", "Coffee Grinders")),
    ("coffee_tea", "Coffee Beans"): (("coffee_tea", "Coffee Grinders"), ("coffee_tea", "Pour-Over Gear")),
    ("coffee_tea", "Loose Leaf Tea"): (("coffee_tea", "Pour-Over Gear"),),
    ("audio", "Turntables"): (("vinyl", "Jazz"), ("vinyl", "Rock"), ("vinyl", "Soul & Funk")),
    ("audio", "Headphones"): (("audio", "Speakers"),),
    ("audio", "Earbuds"): (("running", "Running Apparel"),),
    ("vinyl", "Jazz"): (("books_music", "Jazz History"), ("audio", "Turntables")),
    ("vinyl", "Soul & Funk"): (("books_music", "Biographies"),),
    ("vinyl", "Rock"): (("books_music", "Biographies"),),
    ("vinyl", "Classical"): (("books_music", "Music Theory"),),
    ("vinyl", "Electronic"): (("audio", "Headphones"),),
    ("books_music", "Jazz History"): (("vinyl", "Jazz"),),
    ("books_music", "Biographies"): (("vinyl", "Jazz"), ("vinyl", "Soul & Funk")),
    ("books_music", "Music Theory"): (("books_music", "Songbooks"),),
    ("books_music", "Songbooks"): (("books_music", "Music Theory"),),
    ("running", "Road Running Shoes"): (("running", "Running Socks"), ("running", "Running Apparel")),
    ("running", "Trail Running Shoes"): (("running", "Running Socks"), ("outdoor", "Headlamps")),
    ("running", "Running Apparel"): (("running", "Running Socks"),),
    ("running", "Running Socks"): (("running", "Road Running Shoes"),),
    ("outdoor", "Tents"): (("outdoor", "Sleeping Bags"),),
    ("outdoor", "Sleeping Bags"): (("outdoor", "Tents"),),
    ("outdoor", "Camp Stoves"): (("outdoor", "Headlamps"), ("coffee_tea", "Coffee Beans")),
    ("outdoor", "Backpacks"): (("outdoor", "Headlamps"),),
    ("outdoor", "Headlamps"): (("outdoor", "Backpacks"),),
    ("kitchen", "Cookware"): (("kitchen", "Knives"),),
    ("kitchen", "Knives"): (("kitchen", "Cookware"),),
    ("kitchen", "Small Appliances"): (("kitchen", "Bakeware"),),
    ("kitchen", "Bakeware"): (("kitchen", "Small Appliances"),),
    ("skincare", "Cleansers"): (("skincare", "Moisturisers"),),
    ("skincare", "Moisturisers"): (("skincare", "Serums"), ("skincare", "Cleansers")),
    ("skincare", "Serums"): (("skincare", "Sunscreen"), ("skincare", "Moisturisers")),
    ("skincare", "Sunscreen"): (("skincare", "Serums"),),
    ("smart_home", "Smart Speakers"): (("smart_home", "Smart Lights"), ("smart_home", "Smart Plugs")),
    ("smart_home", "Smart Lights"): (("smart_home", "Smart Speakers"),),
    ("smart_home", "Smart Plugs"): (("smart_home", "Smart Speakers"),),
    ("smart_home", "Thermostats"): (("smart_home", "Smart Plugs"),),
    ("smart_home", "Security Cameras"): (("smart_home", "Smart Plugs"),),
    ("board_games", "Strategy Games"): (("board_games", "Game Expansions"),),
    ("board_games", "Game Expansions"): (("board_games", "Strategy Games"),),
    ("board_games", "Party Games"): (("board_games", "Family Games"),),
    ("board_games", "Family Games"): (("board_games", "Party Games"),),
    ("board_games", "Cooperative Games"): (("board_games", "Strategy Games"),),
}
