"""Vocabulary for synthetic demo data: names, places, destinations and occupations typical of the
Zimbabwe-South Africa corridor. Weights are rough shares, for realistic-looking tables, not statistics."""

SURNAMES = (
    "Moyo", "Ncube", "Sibanda", "Dube", "Ndlovu", "Nyathi", "Mpofu", "Tshuma", "Khumalo", "Mlilo", "Gumbo",
    "Chikwanha", "Mutasa", "Chirwa", "Banda", "Phiri", "Mhlanga", "Moyo-Ncube", "Zhou", "Shumba", "Gumede",
    "Mushonga", "Chigumba", "Marufu", "Mapfumo", "Chiweshe", "Madziva", "Mukanya", "Matongo", "Makoni",
    "Chimuka", "Hove", "Maphosa", "Nkomo", "Mutambara", "Chinyama", "Mabhena", "Masuku", "Moyana", "Nyoni",
    "Sithole", "Chauke", "Baloyi", "Maluleke", "Mathebula", "Ngwenya", "Mlambo", "Tembo", "Mudzingwa",
    "Muchenje", "Murwira", "Chakanyuka", "Mavhunga", "Ruzvidzo", "Gwenzi", "Mazhindu", "Chidzikwe", "Nhema",
)
GIVEN_FEMALE = (
    "Tendai", "Rutendo", "Nyasha", "Chipo", "Rudo", "Tariro", "Fadzai", "Nokuthula", "Sibongile", "Thandiwe",
    "Precious", "Memory", "Blessing", "Patience", "Ruvimbo", "Tsitsi", "Vimbai", "Netsai", "Farai", "Shamiso",
    "Nomsa", "Zanele", "Lindiwe", "Mercy", "Grace", "Loveness", "Sekai", "Chiedza", "Kudzai", "Ropafadzo",
)
GIVEN_MALE = (
    "Tendai", "Tinashe", "Tafadzwa", "Farai", "Kudakwashe", "Tatenda", "Blessing", "Takudzwa", "Tapiwa",
    "Simbarashe", "Sipho", "Themba", "Bongani", "Mthokozisi", "Sibusiso", "Lovemore", "Godknows", "Innocent",
    "Brighton", "Talent", "Munyaradzi", "Tonderai", "Nkosana", "Thulani", "Shingai", "Panashe", "Ngoni",
    "Tawanda", "Kuda", "Trust",
)
# Home districts by province (ISO 3166-2).
DISTRICTS = {
    "ZW-MV": ("Masvingo", "Chiredzi", "Mwenezi", "Chivi", "Zaka", "Bikita", "Gutu"),
    "ZW-MS": ("Beitbridge", "Gwanda", "Insiza", "Matobo", "Bulilima", "Mangwe", "Umzingwane"),
    "ZW-MN": ("Hwange", "Lupane", "Nkayi", "Tsholotsho", "Binga", "Bubi", "Umguza"),
    "ZW-MA": ("Mutare", "Chipinge", "Chimanimani", "Buhera", "Makoni", "Mutasa", "Nyanga"),
    "ZW-MI": ("Gweru", "Zvishavane", "Shurugwi", "Mberengwa", "Gokwe North", "Kwekwe", "Chirumhanzu"),
    "ZW-BU": ("Bulawayo",),
    "ZW-HA": ("Harare", "Chitungwiza", "Epworth"),
    "ZW-ME": ("Marondera", "Mudzi", "Murehwa", "Mutoko", "Goromonzi", "Wedza"),
    "ZW-MC": ("Bindura", "Mazowe", "Shamva", "Mount Darwin", "Guruve", "Rushinga"),
    "ZW-MW": ("Chinhoyi", "Kariba", "Makonde", "Zvimba", "Hurungwe", "Chegutu"),
}
PROVINCE_WEIGHTS = {"ZW-MV": 22, "ZW-MS": 20, "ZW-MN": 8, "ZW-MA": 10, "ZW-MI": 12, "ZW-BU": 10, "ZW-HA": 8,
                    "ZW-ME": 4, "ZW-MC": 3, "ZW-MW": 3}
DESTINATIONS = {"ZA": 78, "BW": 9, "NA": 4, "ZM": 3, "MZ": 3, "MW": 1, "GB": 1, "AE": 1}
DESTINATION_SUBDIVISIONS = {
    "ZA": {"ZA-LP": 40, "ZA-GP": 28, "ZA-MP": 10, "ZA-WC": 8, "ZA-NW": 6, "ZA-KZN": 5, "ZA-FS": 3},
    "BW": {"BW-SE": 50, "BW-CE": 25, "BW-NE": 25},
}
# ISCO-08 unit group: (weight, ISIC section, skills text)
OCCUPATIONS = {
    "9211": (30, "A", "Harvesting citrus and tomatoes; irrigation"),
    "6111": (6, "A", "Vegetable growing"),
    "9212": (4, "A", "Cattle herding"),
    "9111": (12, "T", "Cleaning, laundry, child minding"),
    "5322": (4, "Q", "Caring for the elderly"),
    "7112": (6, "F", "Bricklaying, plastering"),
    "9313": (6, "F", "General building work"),
    "7115": (2, "F", "Roofing, shuttering"),
    "7411": (2, "F", "House wiring"),
    "8111": (6, "B", "Underground drilling, blasting assistant"),
    "8322": (4, "H", "Light vehicle driving, code 8 licence"),
    "8332": (4, "H", "Heavy truck driving, code 14 licence"),
    "5120": (3, "I", "Cooking for staff canteens"),
    "9412": (3, "I", "Kitchen helper"),
    "5223": (3, "G", "Shop sales"),
    "7231": (2, "G", "Motor vehicle repair"),
    "9622": (3, "N", "General odd jobs"),
}
LANGUAGES_BY_PROVINCE = {
    "ZW-MS": ("nde", "eng", "ven"), "ZW-MN": ("nde", "eng", "toi"), "ZW-BU": ("nde", "eng"),
}
EMPLOYERS = ("Tshipise Citrus Estates", "Letaba Valley Farms", "Musina Tomato Growers", "Limpopo Fresh Produce",
             "Hoedspruit Mango Co-operative", "Pretoria Household Services")
AGENCIES = ("Beitbridge Labour Brokers (Pvt) Ltd", "Southern Recruitment Services", "Limpopo Farm Labour Agency")

DEMO_OFFICES = (
    # code, name, kind, subdivision, default destination
    ("HQ", "Head Office, Ministry of Labour, Harare", "head_office", "ZW-HA", "ZA"),
    ("BBR", "Labour Migration Centre, Beitbridge", "border_post", "ZW-MS", "ZA"),
    ("CHR", "District Labour Office, Chiredzi", "district_office", "ZW-MV", "ZA"),
    ("MSV", "Provincial Labour Office, Masvingo", "district_office", "ZW-MV", "ZA"),
    ("HRE", "District Labour Office, Harare", "district_office", "ZW-HA", "ZA"),
    ("PLM", "Plumtree Border Post", "border_post", "ZW-MS", "BW"),
)
